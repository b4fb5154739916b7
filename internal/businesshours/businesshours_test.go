package businesshours_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/treejar/noor/internal/businesshours"
	"github.com/treejar/noor/internal/settings"
)

var dubai = time.FixedZone("GST", 4*3600)

// d builds a Dubai wall-clock time. 2026-10-02 is a Friday.
func d(day, hh, mm int) time.Time { return time.Date(2026, 10, day, hh, mm, 0, 0, dubai) }

func TestNext(t *testing.T) {
	bh := settings.Defaults().BusinessHours // 10:00–20:00 Mon–Fri, Asia/Dubai
	cases := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"inside hours stays", d(1, 14, 30), d(1, 14, 30)},
		{"exactly at opening is open", d(1, 10, 0), d(1, 10, 0)},
		{"one minute before close is open", d(1, 19, 59), d(1, 19, 59)},
		{"at the close edge moves to next morning", d(1, 20, 0), d(2, 10, 0)},
		{"early morning moves to today's opening", d(1, 7, 15), d(1, 10, 0)},
		{"just after midnight", d(1, 0, 1), d(1, 10, 0)},
		{"Friday evening moves over the weekend", d(2, 21, 0), d(5, 10, 0)},
		{"Saturday moves to Monday", d(3, 12, 0), d(5, 10, 0)},
		{"Sunday night moves to Monday", d(4, 23, 59), d(5, 10, 0)},
		{"Monday before opening", d(5, 9, 59), d(5, 10, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := businesshours.Next(c.in, bh)
			assert.True(t, c.want.Equal(got), "want %s, got %s", c.want, got.In(dubai))
			assert.True(t, businesshours.IsOpen(got, bh))
		})
	}
}

func TestNextKeepsCallersLocationAndWorksFromUTC(t *testing.T) {
	bh := settings.Defaults().BusinessHours
	// Friday 17:00 UTC = 21:00 Dubai (closed) → Monday 10:00 Dubai = 06:00 UTC.
	in := time.Date(2026, 10, 2, 17, 0, 0, 0, time.UTC)
	got := businesshours.Next(in, bh)
	assert.Equal(t, time.UTC, got.Location())
	assert.Equal(t, time.Date(2026, 10, 5, 6, 0, 0, 0, time.UTC), got)
}

func TestNextWithCustomDaysAndZone(t *testing.T) {
	// A Sunday–Thursday week in another zone (the setting may change).
	bh := settings.BusinessHours{TimeZone: "Europe/Berlin", Open: "09:30", Close: "17:00", Days: []string{"sun", "mon", "tue", "wed", "thu"}}
	berlin, err := time.LoadLocation("Europe/Berlin")
	assert.NoError(t, err)
	thuEvening := time.Date(2026, 10, 1, 18, 0, 0, 0, berlin)
	assert.Equal(t, time.Date(2026, 10, 4, 9, 30, 0, 0, berlin), businesshours.Next(thuEvening, bh).In(berlin))
	// Across the end of daylight saving time (25 Oct 2026): still 09:30 local.
	sat := time.Date(2026, 10, 24, 12, 0, 0, 0, berlin)
	assert.Equal(t, time.Date(2026, 10, 25, 9, 30, 0, 0, berlin), businesshours.Next(sat, bh).In(berlin))
}

func TestInvalidHoursNeverBlock(t *testing.T) {
	now := d(3, 3, 0) // Saturday night
	for _, bh := range []settings.BusinessHours{
		{TimeZone: "Nowhere/City", Open: "10:00", Close: "20:00", Days: []string{"mon"}},
		{TimeZone: "Asia/Dubai", Open: "20:00", Close: "10:00", Days: []string{"mon"}},
		{TimeZone: "Asia/Dubai", Open: "10:00", Close: "20:00", Days: nil},
	} {
		assert.True(t, businesshours.IsOpen(now, bh))
		assert.Equal(t, now, businesshours.Next(now, bh))
	}
}
