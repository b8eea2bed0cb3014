// Package telemetry sets up what every Kiln binary reports through: logs.
package telemetry

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"
)

// NewLogger returns a slog logger writing to w: format "json", "text", or
// "auto" (text on a terminal, JSON otherwise); level debug, info, warn or error.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	logger, _, err := NewLevelLogger(w, format, level)
	return logger, err
}

// NewLevelLogger is NewLogger that also returns the level, which can be
// changed while the process runs.
func NewLevelLogger(w io.Writer, format, level string) (*slog.Logger, *slog.LevelVar, error) {
	lvl := new(slog.LevelVar)
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	logger, err := newLogger(w, format, lvl)
	return logger, lvl, err
}

func newLogger(w io.Writer, format string, lvl slog.Leveler) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "auto", "":
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want auto, text or json", format)
}
