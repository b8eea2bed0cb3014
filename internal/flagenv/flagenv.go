// Package flagenv gives command-line flags environment twins:
// --model-repository reads KILN_MODEL_REPOSITORY when not given on the
// command line. Every flag of kiln-serve and kiln-registry has a twin
// (Parse); kiln gives one to the flags it names (Bind, Apply).
//
// The command line wins over the environment, which wins over the flag's
// default. A malformed value in a variable is an error that names the
// variable, as a malformed flag is one that names the flag. An empty
// variable counts as unset, except that Parse takes it as the value of a
// string flag, as --name= is (KILN_GRPC_ADDR= turns kiln-serve's gRPC off).
package flagenv

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// Name returns the environment variable that backs a flag: KILN_ plus the
// flag name in upper case with dashes as underscores.
func Name(flagName string) string {
	return "KILN_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// fill sets the flag called name from its twin, when that is set, through
// set; takesEmpty says whether an empty variable is a value too.
func fill(name string, takesEmpty bool, set func(string) error) error {
	env := Name(name)
	value, ok := os.LookupEnv(env)
	if !ok || value == "" && !takesEmpty {
		return nil
	}
	if err := set(value); err != nil {
		return fmt.Errorf("invalid value %q for %s (--%s): %w", value, env, name, err)
	}
	return nil
}

// apply sets each flag of fs that was not given on the command line from
// its twin. Repeatable flags take a comma-separated list.
func apply(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		err = fill(f.Name, isString(f.Value), func(value string) error {
			values := []string{value}
			if _, repeatable := f.Value.(*Strings); repeatable {
				values = strings.Split(value, ",")
			}
			for _, v := range values {
				if err := fs.Set(f.Name, v); err != nil {
					return err
				}
			}
			return nil
		})
	})
	return err
}

// isString reports whether v is a string flag's value.
func isString(v flag.Value) bool {
	g, ok := v.(flag.Getter)
	if !ok {
		return false
	}
	_, ok = g.Get().(string)
	return ok
}

// twinAnnotation marks the kiln flags that Bind gave a twin.
const twinAnnotation = "kiln/env-twin"

// Bind gives the named flags of fs their environment twins, for Apply,
// and adds the twin to each one's help: "OIP REST server URL
// ($KILN_SERVER)". It panics on a name fs lacks.
func Bind(fs *pflag.FlagSet, names ...string) {
	for _, name := range names {
		f := fs.Lookup(name)
		if f == nil {
			panic("flagenv.Bind: no flag --" + name)
		}
		f.Usage += " ($" + Name(name) + ")"
		fs.SetAnnotation(name, twinAnnotation, []string{Name(name)})
	}
}

// Apply sets each flag of fs that Bind gave a twin, and that was not given
// on the command line, from its twin. Call it after fs is parsed.
func Apply(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Annotations[twinAnnotation] == nil || err != nil {
			return
		}
		err = fill(f.Name, false, func(v string) error {
			f.Changed = true
			return f.Value.Set(v)
		})
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
