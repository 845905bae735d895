module dcsum-go-reference

// Go 1.19 is Debian bookworm's golang-go; the program uses the standard library only, so it builds
// offline (GOPROXY=off) with nothing to download.
go 1.19
