package quote

import (
	"fmt"
	"strings"

	"github.com/treejar/noor/db"
)

// ConfirmationText is the message that lists a quote's lines and totals and asks for the
// customer's go-ahead, in their language (numbers, SKUs and product names stay Latin).
func ConfirmationText(q db.Quote, lang string) string {
	var b strings.Builder
	ar := lang == "ar"
	if ar {
		b.WriteString("هذا ملخص عرض السعر قبل أن أجهّزه لك:\n")
	} else {
		b.WriteString("Here is your quotation summary before I prepare it:\n")
	}
	for _, l := range q.Lines {
		fmt.Fprintf(&b, "- %d × %s (%s): AED %s = AED %s\n", l.Qty, l.SKU, l.Name, Money(l.UnitPrice), Money(l.LineTotal))
	}
	if q.DiscountPercent > 0 {
		if ar {
			fmt.Fprintf(&b, "الأسعار أعلاه هي أسعارك الخاصة (%s): خصم %s%% على سعر الكتالوج.\n", q.Segment, Percent(q.DiscountPercent))
		} else {
			fmt.Fprintf(&b, "These are your %s prices: %s%% off the catalog price.\n", q.Segment, Percent(q.DiscountPercent))
		}
	}
	if ar {
		fmt.Fprintf(&b, "المجموع قبل الضريبة: AED %s\nضريبة القيمة المضافة %s%%: AED %s\nالإجمالي: AED %s\n",
			Money(q.Subtotal), Percent(q.VATPercent), Money(q.VAT), Money(q.Total))
		who := q.Customer.Name
		if q.Customer.Company != "" {
			who += "، " + q.Customer.Company
		}
		fmt.Fprintf(&b, "باسم: %s\nالتوصيل إلى: %s\n", who, q.Customer.Address)
		b.WriteString("هل أُصدر عرض السعر؟ أرسل *نعم* للتأكيد، أو أخبرني بما تريد تغييره.")
	} else {
		fmt.Fprintf(&b, "Subtotal: AED %s excl. VAT\nVAT %s%%: AED %s\nTotal: AED %s\n",
			Money(q.Subtotal), Percent(q.VATPercent), Money(q.VAT), Money(q.Total))
		who := q.Customer.Name
		if q.Customer.Company != "" {
			who += ", " + q.Customer.Company
		} else if q.Customer.Individual {
			who += " (individual)"
		}
		fmt.Fprintf(&b, "For: %s\nDelivery to: %s\n", who, q.Customer.Address)
		b.WriteString("Shall I issue the quotation? Reply *yes* to confirm, or tell me what to change.")
	}
	return b.String()
}

// Caption is the one line sent with the PDF.
func Caption(q db.Quote, lang string) string {
	if lang == "ar" {
		return fmt.Sprintf("عرض السعر %s من تري جار: الإجمالي AED %s شامل الضريبة، صالح حتى %s.",
			q.SaleOrderNumber, Money(q.Total), q.ValidUntil.Format("2006-01-02"))
	}
	return fmt.Sprintf("Your Treejar quotation %s: total AED %s incl. VAT, valid until %s.",
		q.SaleOrderNumber, Money(q.Total), q.ValidUntil.Format("2 Jan 2006"))
}

// StatusText is a sale order's status as the customer should hear it.
func StatusText(status, shipmentDate, lang string) string {
	ar := lang == "ar"
	switch status {
	case "draft":
		if ar {
			return "عرض السعر جاهز وبانتظار تأكيدك"
		}
		return "the quotation is ready and waiting for your confirmation"
	case "confirmed":
		if ar {
			return "تم تأكيد الطلب ويجري تجهيزه"
		}
		return "the order is confirmed and being prepared"
	case "open":
		if shipmentDate != "" {
			if ar {
				return "الطلب قيد التنفيذ، والتوصيل مقرر في " + shipmentDate
			}
			return "the order is in progress; delivery is scheduled for " + shipmentDate
		}
		if ar {
			return "الطلب قيد التنفيذ"
		}
		return "the order is in progress"
	case "fulfilled":
		if ar {
			return "تم توصيل الطلب"
		}
		return "the order has been delivered"
	case "void":
		if ar {
			return "تم إلغاء هذا الطلب"
		}
		return "this order was cancelled"
	}
	if ar {
		return "حالة الطلب: " + status
	}
	return "order status: " + status
}
