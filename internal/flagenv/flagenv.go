// Package flagenv gives every command-line flag an environment twin:
// --model-repository reads KILN_MODEL_REPOSITORY when not given on the command line.
package flagenv

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// Name returns the environment variable that backs a flag: KILN_ plus the
// flag name in upper case with dashes as underscores.
func Name(flagName string) string {
	return "KILN_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Apply sets each flag of fs that was not given on the command line from
// its environment twin, when that is set. Repeatable flags take a
// comma-separated list. Call it after fs.Parse.
func Apply(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		value, ok := os.LookupEnv(Name(f.Name))
		if given[f.Name] || !ok || err != nil {
			return
		}
		values := []string{value}
		if _, repeatable := f.Value.(*Strings); repeatable {
			values = strings.Split(value, ",")
		}
		for _, v := range values {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", Name(f.Name), value, e)
			}
		}
	})
	return err
}

// Strings is a repeatable string flag.
type Strings []string

// String joins the values with commas.
func (s *Strings) String() string { return strings.Join(*s, ",") }

// Set adds one value.
func (s *Strings) Set(v string) error {
	*s = append(*s, v)
	return nil
}
