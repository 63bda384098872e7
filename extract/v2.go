package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Request modes of the v2 API (the JSON:API resource /api/v2/tickets), as
// reported in Attempt.Mode. v2 shares everything with v1 but the URL and
// the credentials, which the "v2_" prefix selects (see Client.target).
const (
	ModeV2Probe = "v2_probe"
	ModeV2List  = "v2_list"
	ModeV2IDs   = "v2_ids"
)

// V2 API limits.
const (
	// MaxIDsPerRequest is how many ids one filter[id] request asks for:
	// one page of the largest size.
	MaxIDsPerRequest = 100
	v2Path           = "/api/v2/tickets"
	v2Accept         = "application/vnd.api+json"
)

// ErrV2Unavailable is wrapped by ProbeV2 when the site answers 404: it has
// no v2 API, use v1. (401/403 match ErrUnauthorized as usual.)
var ErrV2Unavailable = errors.New("ra api: v2 API not available")

// V2Query selects tickets of the v2 collection, always sorted by id
// ascending (every scan relies on it). Zero fields filter nothing, except
// States: nil means the API's default, open and request.
type V2Query struct {
	// States are v2 state names (open, request, resolved, closed,
	// quarantined) or "all".
	States []string
	// IDs asks for these tickets (combine with States {"all"}).
	IDs []int64
	// GameIDs restricts to these games.
	GameIDs []int64
}

func joinInts(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

func (q V2Query) params(number, size int) url.Values {
	v := url.Values{"sort": {"id"}}
	if len(q.States) > 0 {
		v.Set("filter[state]", strings.Join(q.States, ","))
	}
	if len(q.IDs) > 0 {
		v.Set("filter[id]", joinInts(q.IDs))
	}
	if len(q.GameIDs) > 0 {
		v.Set("filter[gameId]", joinInts(q.GameIDs))
	}
	v.Set("page[number]", strconv.Itoa(number))
	v.Set("page[size]", strconv.Itoa(size))
	return v
}

// V2Page is one page of the v2 collection: its resource objects, each as
// received in its own buffer (the raw v2 payload), and their ids.
type V2Page struct {
	Number, Size int // page[number] and page[size] sent; 0 for tickets fetched by id
	// Tickets are the resource objects ({"type":"tickets","id":...}); in a
	// scan only the ones new to the scan.
	Tickets []json.RawMessage
	IDs     []int64  // the tickets' ids, in the same order
	Total   int      // meta.page.total, -1 when absent
	HasNext bool     // whether links.next was present
	Cursor  V2Cursor // where ScanV2All resumes after this page (zero elsewhere)
}

// resourceID reads the id of a resource object: a string ("123") as JSON:API
// says, or a number.
func resourceID(raw []byte) (int64, bool) {
	var r struct {
		Type string         `json:"type"`
		ID   jsontext.Value `json:"id"`
	}
	if jsonv2.Unmarshal(raw, &r, decodeOptions...) != nil || (r.Type != "" && r.Type != "tickets") {
		return 0, false
	}
	s := string(r.ID)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// decodeV2Page reads a collection document. Anything else (an HTML page, a
// truncated body, an errors document with status 200) wraps
// ErrMalformedBody and is retried.
func decodeV2Page(body []byte, number, size int) (*V2Page, error) {
	var d struct { // the part of a collection document the client reads
		Data  *[]jsontext.Value
		Meta  struct{ Page struct{ Total *int } }
		Links struct{ Next *string }
	}
	if err := jsonv2.Unmarshal(body, &d, decodeOptions...); err != nil {
		return nil, fmt.Errorf("%w: v2 collection: %v", ErrMalformedBody, err)
	}
	if d.Data == nil {
		return nil, fmt.Errorf("%w: v2 collection without a data array", ErrMalformedBody)
	}
	p := &V2Page{Number: number, Size: size, Tickets: make([]json.RawMessage, len(*d.Data)), IDs: make([]int64, len(*d.Data)), Total: -1}
	for i, raw := range *d.Data {
		p.Tickets[i] = json.RawMessage(raw)
		id, ok := resourceID(raw)
		if !ok {
			return nil, fmt.Errorf("%w: v2 resource %d has no usable tickets id", ErrMalformedBody, i)
		}
		p.IDs[i] = id
	}
	if d.Meta.Page.Total != nil {
		p.Total = *d.Meta.Page.Total
	}
	p.HasNext = d.Links.Next != nil && *d.Links.Next != ""
	return p, nil
}

// v2List fetches one page of the v2 collection (page numbers from 1, sizes
// 1 to 100).
func (c *Client) v2List(ctx context.Context, mode string, q V2Query, number, size int) (*V2Page, error) {
	if number < 1 || size < 1 || size > MaxPageSize {
		return nil, fmt.Errorf("ra api: v2 list: need page number >= 1 and size 1..%d, got %d and %d", MaxPageSize, number, size)
	}
	return get(ctx, c, mode, q.params(number, size), func(body []byte) (*V2Page, error) {
		return decodeV2Page(body, number, size)
	})
}

// ProbeV2 asks for one ticket to learn whether the site has the v2 API and
// takes the key. nil: use v2. An error wrapping ErrV2Unavailable (404) or
// matching ErrUnauthorized (401/403): use v1. Anything else (network, 5xx
// after the retries) is an error of the run, not an answer.
func (c *Client) ProbeV2(ctx context.Context) error {
	_, err := c.v2List(ctx, ModeV2Probe, V2Query{}, 1, 1)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return fmt.Errorf("%w: %w", ErrV2Unavailable, err)
	}
	return err
}

// V2Batch is the answer to one lookup by id.
type V2Batch struct {
	Asked []int64 // the ids asked for, ascending, without duplicates
	// Tickets and IDs are the tickets found, ascending by id.
	Tickets []json.RawMessage
	IDs     []int64
	// Missing are the asked ids the answer did not hold: quarantined
	// (hidden), deleted or never existing. Treat like a v1 404.
	Missing []int64
}

// TicketsByID fetches up to MaxIDsPerRequest tickets in every state in one
// request (filter[id] with filter[state]=all). An id absent from the answer
// is in Missing. An answer holding an id that was not asked for, or more
// than one page, is an error: the server did not apply the filter, and
// taking the page as the answer would call real tickets missing.
func (c *Client) TicketsByID(ctx context.Context, ids []int64) (*V2Batch, error) {
	asked := slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(asked) == 0 || len(asked) > MaxIDsPerRequest || asked[0] <= 0 {
		return nil, fmt.Errorf("ra api: v2 tickets by id: need 1..%d positive ids, got %d", MaxIDsPerRequest, len(asked))
	}
	q := V2Query{States: []string{"all"}, IDs: asked}
	p, err := c.v2List(ctx, ModeV2IDs, q, 1, MaxIDsPerRequest)
	if err != nil {
		return nil, err
	}
	if p.HasNext || p.Total > len(p.Tickets) {
		return nil, fmt.Errorf("ra api: v2 tickets by id: %d ids asked, the answer has more than one page (total %d): filter[id] not applied", len(asked), p.Total)
	}
	found := make(map[int64]json.RawMessage, len(p.IDs))
	for i, id := range p.IDs {
		if _, ok := slices.BinarySearch(asked, id); !ok {
			return nil, fmt.Errorf("ra api: v2 tickets by id: answer holds ticket %d, which was not asked for: filter[id] not applied", id)
		}
		if _, dup := found[id]; !dup {
			found[id] = p.Tickets[i]
		}
	}
	b := &V2Batch{Asked: asked}
	for _, id := range asked {
		if raw, ok := found[id]; ok {
			b.Tickets, b.IDs = append(b.Tickets, raw), append(b.IDs, id)
		} else {
			b.Missing = append(b.Missing, id)
		}
	}
	return b, nil
}

// LookupV2 fetches ids (any number, duplicates ignored) in batches of
// MaxIDsPerRequest, ascending, one V2Batch per request. On failure it
// yields (nil, err) once and stops.
func (c *Client) LookupV2(ctx context.Context, ids []int64) iter.Seq2[*V2Batch, error] {
	return func(yield func(*V2Batch, error) bool) {
		all := slices.Compact(slices.Sorted(slices.Values(ids)))
		for len(all) > 0 {
			n := min(len(all), MaxIDsPerRequest)
			b, err := c.TicketsByID(ctx, all[:n])
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(b, nil) {
				return
			}
			all = all[n:]
		}
	}
}
