package quote

import (
	"strings"
	"unicode"

	"github.com/treejar/noor/db"
)

// Problem is one thing that stops a quote: a detail to ask the customer for (Missing), or a
// reason a manager must price it (Blocked).
type Problem struct {
	Field      string   `json:"field"`
	Message    string   `json:"message"`
	Candidates []string `json:"candidates,omitempty"`
}

// places are the city/emirate/country words that alone do not make a delivery address.
var places = map[string]bool{
	"dubai": true, "abu": true, "dhabi": true, "sharjah": true, "ajman": true, "fujairah": true, "ras": true,
	"al": true, "khaimah": true, "umm": true, "quwain": true, "uae": true, "u.a.e": true, "emirates": true,
	"united": true, "arab": true, "city": true, "ae": true, "the": true, "in": true, "to": true, "deliver": true,
	"delivery": true, "address": true, "please": true, "office": true, "my": true, "our": true,
	"دبي": true, "أبوظبي": true, "ابوظبي": true, "أبو": true, "ابو": true, "ظبي": true, "الشارقة": true, "عجمان": true,
	"الفجيرة": true, "رأس": true, "الخيمة": true, "أم": true, "القيوين": true, "الإمارات": true, "الامارات": true,
	"العربية": true, "المتحدة": true, "مدينة": true, "في": true, "إلى": true, "الى": true, "التوصيل": true, "العنوان": true,
}

// SpecificAddress reports whether addr names a place a driver can find: a building, unit
// or street number, or at least two words beyond the city ("Bay Square 5, Business Bay"
// yes; "Dubai", "Abu Dhabi, UAE" or "Dubai Marina" no).
func SpecificAddress(addr string) bool {
	words := strings.FieldsFunc(addr, func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == ';' || r == '-' || r == '/' || r == '(' || r == ')' || r == '.'
	})
	rest := 0
	for _, w := range words {
		lw := strings.ToLower(w)
		if places[lw] {
			continue
		}
		if strings.IndexFunc(lw, unicode.IsDigit) >= 0 {
			return true
		}
		if len([]rune(lw)) >= 2 {
			rest++
		}
	}
	return rest >= 2
}

// placeholderNames are what a CRM holds when nobody knows the name.
var placeholderNames = map[string]bool{"unknown": true, "unknown client": true, "customer": true, "whatsapp customer": true}

// CheckCustomer lists the customer details a quote still needs: a full name, a company or
// the explicit statement that they buy as an individual, and a specific delivery address.
func CheckCustomer(c db.QuoteCustomer) []Problem {
	var out []Problem
	name := strings.TrimSpace(c.Name)
	if name == "" || placeholderNames[strings.ToLower(name)] {
		out = append(out, Problem{Field: "name", Message: "the customer's full name"})
	}
	if strings.TrimSpace(c.Company) == "" && !c.Individual {
		out = append(out, Problem{Field: "company", Message: "the company name, or whether they buy as an individual"})
	}
	switch {
	case strings.TrimSpace(c.Address) == "":
		out = append(out, Problem{Field: "delivery_address", Message: "the delivery address"})
	case !SpecificAddress(c.Address):
		out = append(out, Problem{Field: "delivery_address",
			Message: "a specific delivery address (building/office or street and area), not only the city: they gave " + quoteText(c.Address)})
	}
	return out
}

func quoteText(s string) string { return "\u201c" + strings.TrimSpace(s) + "\u201d" }
