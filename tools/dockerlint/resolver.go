package main

import (
	"context"
	"encoding/json"
	"runtime"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/opencontainers/go-digest"
)

// offlineResolver answers BuildKit's base-image lookups without a network:
// every base image is a non-empty Linux image of the requested platform
// with the usual PATH. Rules that need more of the real image (its own ENV)
// see only that.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	os, arch, variant := "linux", runtime.GOARCH, ""
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		p := opt.ImageOpt.Platform
		os, arch, variant = p.OS, p.Architecture, p.Variant
	}
	config := map[string]any{
		"os":           os,
		"architecture": arch,
		"variant":      variant,
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{digest.FromString(ref).String()}},
	}
	dt, err := json.Marshal(config)
	return ref, "", dt, err
}
