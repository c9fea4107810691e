package render

// Loud is loud for the G.711 law whose spool key is key (0xFF µ-law,
// 0xD5 A-law), and NoiseRMS the level it tests, for the tests of
// package render_test (which may import pcaptest).
func Loud(key byte, codes []byte) bool { return loud(squares(key), codes) }

const NoiseRMS = noiseRMS
