package console

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFmtDurationRoundTrips(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second: "20s", 4 * time.Second: "4s", 500 * time.Millisecond: "500ms", 30 * time.Minute: "30m",
		90 * time.Second: "1m30s", 23 * time.Hour: "23h", 168 * time.Hour: "168h", 90 * time.Minute: "1h30m",
		time.Hour + time.Second: "1h0m1s", 10 * time.Second: "10s", 0: "0s",
	} {
		got := fmtDuration(d)
		assert.Equal(t, want, got)
		back, err := time.ParseDuration(got)
		assert.NoError(t, err)
		assert.Equal(t, d, back)
	}
}

func TestDiff(t *testing.T) {
	d := Diff("a\nb\nc\n", "a\nc\nd\n")
	var ops []string
	for _, l := range d {
		ops = append(ops, string(l.Op)+l.Text)
	}
	assert.Equal(t, []string{" a", "-b", " c", "+d"}, ops)
	assert.Equal(t, 2, d[1].Old)
	assert.Equal(t, 0, d[1].New)
	assert.Equal(t, 3, d[3].New)
	assert.Empty(t, Diff("", ""))
	assert.Equal(t, []string{"+x"}, func() []string {
		var o []string
		for _, l := range Diff("", "x") {
			o = append(o, string(l.Op)+l.Text)
		}
		return o
	}())
}

func TestDefuseFormula(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+971": "'+971", "-2": "'-2", "@SUM": "'@SUM",
		"hello": "hello", "": "", "مرحبا": "مرحبا", "\tx": "'\tx"} {
		assert.Equal(t, want, defuseFormula(in))
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{"/console/settings": "/console/settings", "/console/conversations?q=a": "/console/conversations?q=a",
		"https://evil": "/console/", "//evil/console": "/console/", "/consolex": "/consolex", "/other": "/console/", "": "/console/",
		"/console\r\nSet-Cookie: x": "/console/"} {
		assert.Equal(t, want, safeNext(in), in)
	}
}

func TestLoginLimiterWindow(t *testing.T) {
	l := newLoginLimiter(2, time.Minute)
	t0 := time.Unix(1000, 0)
	assert.True(t, l.allow("a", t0))
	assert.True(t, l.allow("a", t0.Add(time.Second)))
	assert.False(t, l.allow("a", t0.Add(2*time.Second)))
	assert.True(t, l.allow("b", t0.Add(2*time.Second)), "per address")
	assert.True(t, l.allow("a", t0.Add(61*time.Second)), "the window slides")
}
