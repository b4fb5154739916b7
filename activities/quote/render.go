package quote

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/treejar/noor/db"
)

//go:embed quote.html
var quoteHTML string

var quoteTemplate = template.Must(template.New("quote").Parse(quoteHTML))

// Document is what the PDF shows.
type Document struct {
	Number     string // the sale order number (SO-00022)
	Ref        string // our quote reference
	Date       time.Time
	ValidUntil time.Time
	Seller     string
	TRN        string
	Customer   db.QuoteCustomer
	Currency   string
	Lines      []db.QuoteLine
	Totals     Totals
	// PriceNote explains personal prices ("Wholesale prices: 15% off the catalog price").
	PriceNote string
	Terms     []string
}

type docLine struct {
	SKU, Name, Description string
	Qty                    int
	ListPrice, UnitPrice   string
	LineTotal              string
	Image                  template.URL
}

type docView struct {
	Number, Ref, Date, ValidUntil, Seller, TRN, Currency string
	Customer                                             db.QuoteCustomer
	Lines                                                []docLine
	Subtotal, VAT, Total, VATPercent                     string
	PriceNote                                            string
	Terms                                                []string
}

// HTML renders the document's page. Product images are embedded (images maps an image URL
// to a data: URI); the page loads nothing from the network.
func HTML(d Document, images map[string]string) ([]byte, error) {
	v := docView{Number: d.Number, Ref: d.Ref, Date: d.Date.Format("2 January 2006"), ValidUntil: d.ValidUntil.Format("2 January 2006"),
		Seller: d.Seller, TRN: d.TRN, Currency: d.Currency, Customer: d.Customer, Subtotal: Money(d.Totals.Subtotal),
		VAT: Money(d.Totals.VAT), Total: Money(d.Totals.Total), VATPercent: Percent(d.Totals.VATPercent),
		PriceNote: d.PriceNote, Terms: d.Terms}
	for _, l := range d.Lines {
		dl := docLine{SKU: l.SKU, Name: l.Name, Description: l.Description, Qty: l.Qty, UnitPrice: Money(l.UnitPrice),
			LineTotal: Money(l.LineTotal)}
		if l.ListPrice > l.UnitPrice {
			dl.ListPrice = Money(l.ListPrice)
		}
		if uri, ok := images[l.ImageURL]; ok && strings.HasPrefix(uri, "data:image/") {
			dl.Image = template.URL(uri) // built by fetchImage from a checked image type
		}
		v.Lines = append(v.Lines, dl)
	}
	var b bytes.Buffer
	if err := quoteTemplate.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("quote template: %w", err)
	}
	return b.Bytes(), nil
}

// Renderer prints documents to PDF with headless Chromium. One browser per process is
// started on first use (fresh profile directory, no network) and reused; each render opens
// its own tab.
type Renderer struct {
	ChromePath string
	Timeout    time.Duration // per render (default 45 s)
	// ImageHTTP fetches product images (short timeout); nil leaves images out.
	ImageHTTP *http.Client
	Log       *slog.Logger
	// IdleTimeout stops the browser after this long without a render (default 5 min), so
	// an idle worker holds no Chromium.
	IdleTimeout time.Duration

	mu        sync.Mutex
	browser   context.Context
	cancel    func()
	dataDir   string
	images    map[string]string // image URL → data: URI ("" = could not fetch)
	imagesAge map[string]time.Time
	lastUse   time.Time
	idle      *time.Timer
}

// ChromiumPath is where scripts/bootstrap.sh and the Docker image install Chromium.
const ChromiumPath = "/usr/bin/chromium"

// NewRenderer uses ChromiumPath.
func NewRenderer(log *slog.Logger) *Renderer {
	path := ChromiumPath
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Renderer{ChromePath: path, Timeout: 45 * time.Second, ImageHTTP: &http.Client{Timeout: 4 * time.Second}, Log: log}
}

// start launches the browser if it is not running. The caller holds r.mu.
func (r *Renderer) start() error {
	if r.browser != nil && r.browser.Err() == nil {
		return nil
	}
	r.stop()
	if _, err := os.Stat(r.ChromePath); err != nil {
		return fmt.Errorf("chromium not found at %s (scripts/bootstrap.sh installs it): %w", r.ChromePath, err)
	}
	dir, err := os.MkdirTemp("", "noor-chromium-")
	if err != nil {
		return err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(r.ChromePath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("mute-audio", true),
		// The page is self-contained: no request may leave the machine.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.UserDataDir(dir),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	// The first run launches the browser; it lives as long as bctx (no timeout on it).
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		_ = os.RemoveAll(dir)
		return fmt.Errorf("start chromium: %w", err)
	}
	r.browser, r.dataDir = bctx, dir
	r.cancel = func() { cancelBrowser(); cancelAlloc() }
	return nil
}

func (r *Renderer) stop() {
	if r.cancel != nil {
		r.cancel()
	}
	if r.dataDir != "" {
		_ = os.RemoveAll(r.dataDir)
	}
	r.browser, r.cancel, r.dataDir = nil, nil, ""
}

// armIdle (re)starts the idle timer. The caller holds r.mu.
func (r *Renderer) armIdle() {
	idle := r.IdleTimeout
	if idle <= 0 {
		idle = 5 * time.Minute
	}
	r.lastUse = time.Now()
	if r.idle != nil {
		r.idle.Stop()
	}
	r.idle = time.AfterFunc(idle, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if time.Since(r.lastUse) >= idle {
			r.stop()
		}
	})
}

// Running reports whether a browser is up (for tests and metrics).
func (r *Renderer) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.browser != nil && r.browser.Err() == nil
}

// Close stops the browser.
func (r *Renderer) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stop()
}

// Render prints d as an A4 PDF. A browser that died is restarted once.
func (r *Renderer) Render(ctx context.Context, d Document) ([]byte, error) {
	images := r.fetchImages(ctx, d.Lines)
	html, err := HTML(d, images)
	if err != nil {
		return nil, err
	}
	return r.RenderHTML(ctx, html)
}

// RenderHTML prints an HTML page to PDF.
func (r *Renderer) RenderHTML(ctx context.Context, html []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock() // one render at a time per process: Chromium is the heavy part
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		if err := r.start(); err != nil {
			return nil, err
		}
		pdf, err := r.print(ctx, html)
		if err == nil {
			r.armIdle()
			return pdf, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
		r.Log.Warn("PDF rendering failed; restarting chromium", "err", err)
		r.stop()
	}
	return nil, fmt.Errorf("render PDF: %w", lastErr)
}

func (r *Renderer) print(ctx context.Context, html []byte) ([]byte, error) {
	tab, cancelTab := chromedp.NewContext(r.browser)
	defer cancelTab()
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 45 * time.Second
	}
	tctx, cancel := context.WithTimeout(tab, timeout)
	defer cancel()
	// The caller's cancellation ends the render too.
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	err := chromedp.Do(tctx,
		chromedp.Navigate("about:blank"),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
			if err != nil {
				return err
			}
			_, err = chromedp.Call(ctx, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: string(html)})
			return err
		}),
		chromedp.WaitReady(chromedp.CSS("body")),
	)
	if err != nil {
		return nil, err
	}
	// The fonts (Noto for Arabic) must be loaded before printing.
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		return nil, err
	}
	pdf, err := chromedp.Run(tctx, chromedp.PrintToPDF(chromedp.PDFPrintBackground(),
		func(p *page.PrintToPDFParams) { t := true; p.PreferCSSPageSize = &t }))
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		return nil, errors.New("chromium did not return a PDF")
	}
	return pdf, nil
}

// fetchImages downloads product images (jpeg/png/webp/gif up to 2 MB, a few seconds each)
// and caches them for an hour; an image that cannot be fetched is left out of the PDF.
func (r *Renderer) fetchImages(ctx context.Context, lines []db.QuoteLine) map[string]string {
	out := map[string]string{}
	if r.ImageHTTP == nil {
		return out
	}
	for _, l := range lines {
		u := l.ImageURL
		if u == "" || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
			continue
		}
		r.mu.Lock()
		if r.images == nil {
			r.images, r.imagesAge = map[string]string{}, map[string]time.Time{}
		}
		uri, ok := r.images[u]
		fresh := ok && time.Since(r.imagesAge[u]) < time.Hour
		r.mu.Unlock()
		if !fresh {
			uri = fetchImage(ctx, r.ImageHTTP, u)
			r.mu.Lock()
			r.images[u], r.imagesAge[u] = uri, time.Now()
			r.mu.Unlock()
		}
		if uri != "" {
			out[u] = uri
		}
	}
	return out
}

func fetchImage(ctx context.Context, c *http.Client, u string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return ""
	}
	resp, err := c.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 2<<20+1))
	if err != nil || len(body) > 2<<20 {
		return ""
	}
	ct := http.DetectContentType(body)
	switch ct {
	case "image/jpeg", "image/png", "image/webp", "image/gif":
	default:
		return ""
	}
	return "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(body)
}
