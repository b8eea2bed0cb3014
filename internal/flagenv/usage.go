package flagenv

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
)

// Parse parses args with fs the way the kiln command line does, so the
// three binaries read and print flags alike, then sets each flag not given
// from its environment twin (see Name). --help writes header and the flags
// (as --name, see printFlags) to help and returns flag.ErrHelp; a mistake,
// on the command line or in a variable, comes back as one error line that
// names flags with two dashes, and nothing is printed. Go's -name spelling
// is still accepted.
func Parse(fs *flag.FlagSet, args []string, header string, help io.Writer) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintln(help, header)
		fmt.Fprintln(help, "\nFlags (each also read from the environment variable in parentheses):")
		printFlags(help, fs)
		return err
	case err != nil:
		err = errors.New(singleDash.ReplaceAllString(err.Error(), "$1--$2"))
	default:
		err = apply(fs)
	}
	if err != nil {
		return fmt.Errorf("%w (see %s --help)", err, fs.Name())
	}
	return nil
}

// singleDash finds the -name of a flag in the flag package's messages.
var singleDash = regexp.MustCompile(`(^|[\s:])-([a-zA-Z][a-zA-Z0-9_.-]*)`)

// printFlags writes one line per flag of fs, in name order, as kiln's
// --help does: --name TYPE, the usage, the environment twin, and the
// default unless it is the zero value.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if typ != "" {
			name += " " + typ
		}
		line := "  " + name + "\t" + strings.ReplaceAll(usage, "\n", " ") + " ($" + Name(f.Name) + ")"
		switch f.DefValue {
		case "", "0", "false", "0s", "[]":
		default:
			if typ == "string" {
				line += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				line += " (default " + f.DefValue + ")"
			}
		}
		fmt.Fprintln(tw, line)
	})
	tw.Flush()
}
