package g726

// NewFFmpegCompatible returns a decoder with ffmpeg's two deviations from
// G.726 (see Decoder.ffmpeg), for tests that compare with ffmpeg bit for
// bit.
func NewFFmpegCompatible(kbit int, p Packing) (*Decoder, error) {
	d, err := NewDecoder(kbit, p)
	if err == nil {
		d.ffmpeg = true
	}
	return d, err
}
