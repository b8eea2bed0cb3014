package batch

import (
	"context"
	"fmt"

	"github.com/kilnml/kiln/pkg/table"
)

// assemble joins the parts in dir into one file at dst, written atomically.
func assemble(ctx context.Context, st *table.Storage, format table.Format, dir table.Location, parts []part, fields []table.Field, dst table.Location) error {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.Name
	}
	return joinInto(ctx, st, format, dir, names, fields, dst)
}

// joinInto joins the files named in dir, of format, into one file at dst,
// written atomically.
func joinInto(ctx context.Context, st *table.Storage, format table.Format, dir table.Location, names []string, fields []table.Field, dst table.Location) error {
	locs := make([]table.Location, len(names))
	for i, name := range names {
		locs[i] = dir.Join(name)
	}
	out, err := st.Create(ctx, dst)
	if err != nil {
		return err
	}
	if err := table.Join(ctx, st, format, locs, fields, out); err != nil {
		out.Abort()
		return fmt.Errorf("assemble %s: %w", dst, err)
	}
	return out.Commit()
}
