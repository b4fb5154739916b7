// Package businesshours answers "may a proactive message go out now, and if not, when?"
// for the business hours in settings (Asia/Dubai by default, 10:00–20:00 Mon–Fri).
//
// It is pure and deterministic for a given binary (the zone database is embedded), so
// workflows may call it directly.
package businesshours

import (
	"strings"
	"time"
	_ "time/tzdata" // the zone rules travel with the binary: same input, same answer everywhere

	"github.com/treejar/noor/internal/settings"
)

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

type schedule struct {
	loc         *time.Location
	open, close int // minutes after local midnight; close is exclusive
	days        [7]bool
}

func parse(bh settings.BusinessHours) (schedule, bool) {
	var s schedule
	loc, err := time.LoadLocation(bh.TimeZone)
	if err != nil {
		return s, false
	}
	open, err1 := settings.ParseClock(bh.Open)
	closeT, err2 := settings.ParseClock(bh.Close)
	if err1 != nil || err2 != nil || closeT <= open {
		return s, false
	}
	found := false
	for _, d := range bh.Days {
		if wd, ok := weekdays[strings.ToLower(strings.TrimSpace(d))]; ok {
			s.days[wd] = true
			found = true
		}
	}
	if !found {
		return s, false
	}
	s.loc, s.open, s.close = loc, open, closeT
	return s, true
}

// IsOpen reports whether t falls inside business hours: on a business day, at or after
// the opening and strictly before the closing time. Invalid hours count as always open,
// so a broken setting never stops every proactive message for good.
func IsOpen(t time.Time, bh settings.BusinessHours) bool {
	s, ok := parse(bh)
	if !ok {
		return true
	}
	lt := t.In(s.loc)
	m := lt.Hour()*60 + lt.Minute()
	return s.days[lt.Weekday()] && m >= s.open && m < s.close
}

// Next returns t itself when it is inside business hours, otherwise the next opening
// (the open time of the next business day, in the business time zone). The result is in
// t's location. Invalid hours return t unchanged.
func Next(t time.Time, bh settings.BusinessHours) time.Time {
	s, ok := parse(bh)
	if !ok || IsOpen(t, bh) {
		return t
	}
	lt := t.In(s.loc)
	m := lt.Hour()*60 + lt.Minute()
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, s.loc)
	// Before today's opening on a business day: open today. Otherwise look from tomorrow.
	if s.days[lt.Weekday()] && m < s.open {
		return at(day, s.open).In(t.Location())
	}
	for i := 1; i <= 7; i++ {
		d := day.AddDate(0, 0, i)
		if s.days[d.Weekday()] {
			return at(d, s.open).In(t.Location())
		}
	}
	return t // unreachable: at least one day is a business day
}

// at is midnight plus minutes, built from the calendar so a DST shift in the zone (none in
// Asia/Dubai, but the zone is a setting) cannot move the opening.
func at(midnight time.Time, minutes int) time.Time {
	return time.Date(midnight.Year(), midnight.Month(), midnight.Day(), minutes/60, minutes%60, 0, 0, midnight.Location())
}
