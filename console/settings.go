package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/treejar/noor/db"
	"github.com/treejar/noor/internal/settings"
)

// The settings form is generated from the typed settings.Settings (json names, help tags),
// so a setting added there appears here with no console change. Field names are the
// settings' JSON paths ("escalation.sla"), the same names validation errors use.

type formField struct {
	Path, Label, Help, Kind string
	Value                   string
	Checked                 bool
	Flags                   []formFlag
	Error                   string
}

type formFlag struct {
	Name, Key string
	Checked   bool
}

type formSection struct {
	Key, Title string
	Fields     []*formField
}

var (
	durationType  = reflect.TypeOf(settings.Duration(0))
	durationsType = reflect.TypeOf([]settings.Duration(nil))
	stringsType   = reflect.TypeOf([]string(nil))
	flagsType     = reflect.TypeOf(map[string]bool(nil))
)

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		name = f.Name
	}
	return name
}

func labelFor(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

func fmtDuration(d time.Duration) string {
	s := d.String()
	// "23h0m0s" reads better as "23h", "30m0s" as "30m".
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// settingsForm builds the form from a settings value.
func settingsForm(s settings.Settings) []formSection {
	v := reflect.ValueOf(s)
	t := v.Type()
	var out []formSection
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		sec := formSection{Key: jsonName(sf), Title: labelFor(jsonName(sf))}
		sv := v.Field(i)
		for j := 0; j < sf.Type.NumField(); j++ {
			ff := sf.Type.Field(j)
			fv := sv.Field(j)
			f := &formField{Path: sec.Key + "." + jsonName(ff), Label: labelFor(jsonName(ff)), Help: ff.Tag.Get("help")}
			switch {
			case ff.Type == durationType:
				f.Kind, f.Value = "duration", fmtDuration(time.Duration(fv.Int()))
			case ff.Type == durationsType:
				var parts []string
				for k := 0; k < fv.Len(); k++ {
					parts = append(parts, fmtDuration(time.Duration(fv.Index(k).Int())))
				}
				f.Kind, f.Value = "durations", strings.Join(parts, ", ")
			case ff.Type == stringsType:
				var parts []string
				for k := 0; k < fv.Len(); k++ {
					parts = append(parts, fv.Index(k).String())
				}
				f.Kind, f.Value = "strings", strings.Join(parts, ", ")
			case ff.Type == flagsType:
				f.Kind = "flags"
				keys := map[string]bool{}
				for _, k := range fv.MapKeys() {
					keys[k.String()] = fv.MapIndex(k).Bool()
				}
				names := make([]string, 0, len(keys))
				for k := range keys {
					names = append(names, k)
				}
				if f.Path == "escalation.soft_triggers" {
					for _, n := range settings.SoftTriggerNames {
						if _, ok := keys[n]; !ok {
							names = append(names, n)
						}
					}
				}
				sort.Strings(names)
				for _, k := range names {
					f.Flags = append(f.Flags, formFlag{Name: f.Path + "." + k, Key: k, Checked: keys[k]})
				}
			case ff.Type.Kind() == reflect.Bool:
				f.Kind, f.Checked = "bool", fv.Bool()
			case ff.Type.Kind() == reflect.Int:
				f.Kind, f.Value = "int", strconv.FormatInt(fv.Int(), 10)
			case ff.Type.Kind() == reflect.Float64:
				f.Kind, f.Value = "float", strconv.FormatFloat(fv.Float(), 'f', -1, 64)
			case ff.Type.Kind() == reflect.String:
				f.Kind, f.Value = "text", fv.String()
			default:
				b, _ := json.MarshalIndent(fv.Interface(), "", "  ")
				f.Kind, f.Value = "json", string(b)
			}
			sec.Fields = append(sec.Fields, f)
		}
		out = append(out, sec)
	}
	return out
}

// readSettingsForm turns the posted form into the settings document, reporting values
// that cannot even be parsed per field. The form's fields echo what was posted.
func readSettingsForm(c echo.Context, form []formSection) (map[string]any, bool) {
	doc := map[string]any{}
	ok := true
	for _, sec := range form {
		m := map[string]any{}
		for _, f := range sec.Fields {
			raw := strings.TrimSpace(c.FormValue(f.Path))
			key := strings.TrimPrefix(f.Path, sec.Key+".")
			fail := func(format string, args ...any) {
				f.Error, ok = fmt.Sprintf(format, args...), false
			}
			switch f.Kind {
			case "duration":
				f.Value = raw
				if _, err := time.ParseDuration(raw); err != nil {
					fail("a duration such as 90s, 15m or 72h")
				}
				m[key] = raw
			case "durations":
				f.Value = raw
				list := []string{}
				for _, p := range splitList(raw) {
					if _, err := time.ParseDuration(p); err != nil {
						fail("%q is not a duration (use e.g. 23h, 72h, 168h)", p)
					}
					list = append(list, p)
				}
				m[key] = list
			case "strings":
				f.Value = raw
				m[key] = splitList(raw)
			case "flags":
				flags := map[string]bool{}
				for i := range f.Flags {
					f.Flags[i].Checked = c.FormValue(f.Flags[i].Name) == "on"
					flags[f.Flags[i].Key] = f.Flags[i].Checked
				}
				m[key] = flags
			case "bool":
				f.Checked = c.FormValue(f.Path) == "on"
				m[key] = f.Checked
			case "int":
				f.Value = raw
				n, err := strconv.Atoi(raw)
				if err != nil {
					fail("a whole number")
				}
				m[key] = n
			case "float":
				f.Value = raw
				x, err := strconv.ParseFloat(raw, 64)
				if err != nil {
					fail("a number")
				}
				m[key] = x
			case "text":
				f.Value = raw
				m[key] = raw
			case "json":
				f.Value = c.FormValue(f.Path)
				var v any
				if err := json.Unmarshal([]byte(raw), &v); err != nil {
					fail("not valid JSON: %v", err)
				}
				m[key] = v
			}
		}
		doc[sec.Key] = m
	}
	return doc, ok
}

func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// attachErrors puts validation errors on their fields; the rest are returned.
func attachErrors(form []formSection, errs []settings.FieldError) []string {
	var rest []string
	for _, fe := range errs {
		placed := false
		for _, sec := range form {
			for _, f := range sec.Fields {
				if fe.Field == f.Path || strings.HasPrefix(fe.Field, f.Path+"[") || strings.HasPrefix(fe.Field, f.Path+".") {
					if f.Error != "" {
						f.Error += "; "
					}
					f.Error += fe.Message
					placed = true
				}
			}
		}
		if !placed {
			rest = append(rest, fe.Field+": "+fe.Message)
		}
	}
	return rest
}

func (cs *Console) settingsPage(c echo.Context) error {
	rec, err := cs.Store.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	return cs.renderSettings(c, http.StatusOK, rec, settingsForm(rec.Settings), nil)
}

func (cs *Console) renderSettings(c echo.Context, status int, rec db.SettingsRecord, form []formSection, errs []string) error {
	changes, err := cs.Store.SettingsChanges(c.Request().Context(), 20)
	if err != nil {
		return err
	}
	return cs.render(c, status, "settings", "Settings", "settings", map[string]any{
		"Rec": rec, "Form": form, "Errors": errs, "Changes": changes, "HasFieldErrors": status == http.StatusUnprocessableEntity,
	})
}

func (cs *Console) settingsSave(c echo.Context) error {
	ctx := c.Request().Context()
	cur, err := cs.Store.Settings(ctx)
	if err != nil {
		return err
	}
	form := settingsForm(cur.Settings)
	doc, ok := readSettingsForm(c, form)
	if !ok {
		return cs.renderSettings(c, http.StatusUnprocessableEntity, cur, form, []string{"Some values could not be read; see the marked fields."})
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	// The form carries the whole document, so it is applied onto an empty value: a key
	// removed in a JSON field is really removed.
	next, err := settings.Settings{}.ApplyPatch(raw)
	var ve *settings.ValidationError
	if errors.As(err, &ve) {
		rest := attachErrors(form, ve.Fields)
		return cs.renderSettings(c, http.StatusUnprocessableEntity, cur, form, append([]string{"Nothing was saved: fix the marked fields."}, rest...))
	}
	if err != nil {
		return err
	}
	expect, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return badRequest("The form has no settings version; reload the page.")
	}
	by := actorOf(c).Username
	rec, err := cs.Store.SaveSettings(ctx, next, expect, by)
	if errors.Is(err, db.ErrVersionConflict) {
		return cs.renderSettings(c, http.StatusConflict, cur, form, []string{err.Error()})
	}
	if err != nil {
		return err
	}
	if err := cs.Store.Audit(ctx, auditEntry(c, "settings.update", "settings v"+strconv.Itoa(rec.Version)), cur.Settings, next); err != nil {
		return err
	}
	cs.Log.Info("settings changed in the console", "version", rec.Version, "by", by)
	return c.Redirect(http.StatusSeeOther, "/console/settings?ok=saved")
}
