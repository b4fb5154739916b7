// Package demodata bundles the synthetic demo data (shaped like Treejar's catalog API, Zoho
// records, knowledge base, Wazzup webhooks and example dialogues) so that `make run` works
// offline and tests run from a fresh clone. See DATA.md for what is real and what is invented.
package demodata

import "embed"

// FS holds catalog/, kb/, zoho/, wazzup/ and conversations/.
//
//go:embed DATA.md catalog kb zoho wazzup conversations
var FS embed.FS
