package api

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// themeVars returns the custom properties of the UI's stylesheet: those of
// its top-level :root blocks (light), and those with the dark block's
// overrides applied (dark).
func themeVars(t *testing.T) (light, dark map[string]string) {
	t.Helper()
	b, err := uiFiles.ReadFile("ui/app.css")
	if err != nil {
		t.Fatal(err)
	}
	css := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(b), "")
	const darkQuery = "@media (prefers-color-scheme: dark)"
	i := strings.Index(css, darkQuery)
	if i < 0 {
		t.Fatal("app.css has no prefers-color-scheme: dark block")
	}
	// The dark block ends where its braces balance.
	depth, end := 0, -1
	for j := i; j < len(css) && end < 0; j++ {
		switch css[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				end = j + 1
			}
		}
	}
	if end < 0 {
		t.Fatal("unbalanced dark block")
	}
	root := regexp.MustCompile(`(?s):root\s*\{(.*?)\}`)
	decl := regexp.MustCompile(`(--[\w-]+)\s*:\s*([^;]+);`)
	read := func(src string, into map[string]string) {
		for _, m := range root.FindAllStringSubmatch(src, -1) {
			for _, d := range decl.FindAllStringSubmatch(m[1], -1) {
				into[d[1]] = strings.TrimSpace(d[2])
			}
		}
	}
	light = map[string]string{}
	read(css[:i]+css[end:], light)
	dark = map[string]string{}
	for k, v := range light {
		dark[k] = v
	}
	read(css[i:end], dark)
	return light, dark
}

// luminance is the WCAG 2 relative luminance of a #rrggbb colour.
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	if len(hex) != 7 || hex[0] != '#' {
		t.Fatalf("colour %q: want #rrggbb", hex)
	}
	lin := func(s string) float64 {
		v, err := strconv.ParseUint(s, 16, 8)
		if err != nil {
			t.Fatalf("colour %q: %v", hex, err)
		}
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(hex[1:3]) + 0.7152*lin(hex[3:5]) + 0.0722*lin(hex[5:7])
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// TestContrast computes the contrast of the text and background variables
// the UI pairs, in the light and the dark theme: at least 4.5:1 for text
// (WCAG 2.2 SC 1.4.3), 3:1 for the focus ring and borders of controls
// against their background (SC 1.4.11).
func TestContrast(t *testing.T) {
	light, dark := themeVars(t)
	text := [][2]string{
		{"--text", "--bg"}, {"--text", "--panel"}, {"--text", "--input-bg"}, {"--text", "--surface-2"}, {"--text", "--surface-hover"},
		{"--muted", "--bg"}, {"--muted", "--panel"}, {"--muted", "--surface-2"}, {"--muted", "--input-bg"},
		{"--label", "--panel"}, {"--label", "--bg"},
		{"--primary", "--panel"}, {"--primary", "--bg"}, {"--primary", "--primary-soft"}, {"--primary", "--surface-2"},
		{"--danger", "--panel"}, {"--danger", "--danger-soft"},
		{"--ok", "--panel"}, {"--ok", "--ok-soft"},
		{"--warn", "--panel"},
		{"--pill-text", "--pill-bg"}, {"--busy-text", "--busy-bg"},
		{"--placeholder", "--input-bg"},
		{"--topbar-text", "--topbar"}, {"--nav-text", "--topbar"},
	}
	ui := [][2]string{{"--focus", "--panel"}, {"--focus", "--bg"}, {"--chart-0", "--panel"}}
	for name, vars := range map[string]map[string]string{"light": light, "dark": dark} {
		check := func(pairs [][2]string, min float64) {
			for _, p := range pairs {
				fg, bg := vars[p[0]], vars[p[1]]
				if fg == "" || bg == "" {
					t.Errorf("%s theme: %s or %s is not defined", name, p[0], p[1])
					continue
				}
				if c := contrast(t, fg, bg); c < min {
					t.Errorf("%s theme: %s %s on %s %s: contrast %.2f:1, want ≥ %.1f:1", name, p[0], fg, p[1], bg, c, min)
				}
			}
		}
		check(text, 4.5)
		check(ui, 3)
	}
	// The dark theme changes the colours, not just some.
	if light["--bg"] == dark["--bg"] || light["--text"] == dark["--text"] {
		t.Error("the dark theme keeps the light background or text colour")
	}
}

func TestContrastFormula(t *testing.T) {
	// WCAG's extremes and a known pair: #767676 on white is 4.54:1.
	for _, c := range []struct {
		a, b string
		want float64
	}{{"#000000", "#ffffff", 21}, {"#ffffff", "#ffffff", 1}, {"#767676", "#ffffff", 4.54}} {
		if got := contrast(t, c.a, c.b); math.Abs(got-c.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
}
