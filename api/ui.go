package api

import "embed"

// uiFiles is the web UI: index.html and the scripts and styles it loads.
// The CSP allows no inline script or style, so everything is in files.
//
//go:embed ui
var uiFiles embed.FS
