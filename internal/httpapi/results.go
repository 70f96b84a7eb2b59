package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/webhook"
)

func (s *server) ListResults(ctx context.Context, req api.ListResultsRequestObject) (api.ListResultsResponseObject, error) {
	q := req.Params
	after, err := sequenceCursor(ctx, q.Cursor)
	if err != nil {
		return nil, err
	}
	f := service.ResultFilter{After: after, Limit: 20, CertificationCode: deref(q.CertificationCode),
		TrainingSiteID: uuidString(q.TrainingSiteId), Since: q.UpdatedSince}
	if q.Limit != nil {
		f.Limit = int(*q.Limit)
	}
	feed, err := s.svc.ResultFeed(ctx, f)
	if errors.Is(err, service.ErrCursorPastEnd) {
		return nil, &contractError{violations: []certification.Violation{{Field: "/cursor",
			Message: "not a cursor this API issued: it is past the feed's latest entry"}}}
	}
	if err != nil {
		return nil, err
	}
	out := api.ResultFeed{Items: make([]api.ResultEntry, len(feed.Entries)), HasMore: feed.HasMore,
		NextCursor: encodeSequence(ctx, feed.Next)}
	for i, e := range feed.Entries {
		out.Items[i] = toAPIResultEntry(e)
	}
	return api.ListResults200JSONResponse{Body: out}, nil
}

func (s *server) ListCertificates(ctx context.Context, req api.ListCertificatesRequestObject) (api.ListCertificatesResponseObject, error) {
	q := req.Params
	after, err := sequenceCursor(ctx, q.Cursor)
	if err != nil {
		return nil, err
	}
	f := service.CertificateFilter{After: after, Limit: 20, TrainingSiteID: uuidString(q.TrainingSiteId)}
	if q.Limit != nil {
		f.Limit = int(*q.Limit)
	}
	if q.Status != nil {
		f.Status = certification.CertificateStatus(*q.Status)
	}
	certs, err := s.svc.ListCertificates(ctx, f)
	if err != nil {
		return nil, err
	}
	out := api.CertificatePage{Items: []api.Certificate{}}
	if len(certs) > f.Limit {
		certs = certs[:f.Limit]
		out.NextCursor = ptr(encodeSequence(ctx, certs[len(certs)-1].Sequence))
	}
	for _, c := range certs {
		out.Items = append(out.Items, s.toAPICertificate(c.Certificate))
	}
	return api.ListCertificates200JSONResponse{Body: out}, nil
}

func (s *server) GetStatistics(ctx context.Context, req api.GetStatisticsRequestObject) (api.GetStatisticsResponseObject, error) {
	q := req.Params
	after, err := statisticsCursor(ctx, q.Cursor)
	if err != nil {
		return nil, err
	}
	f := service.StatisticsFilter{After: after, Limit: 20, CertificationCode: deref(q.CertificationCode),
		TrainingSiteID: uuidString(q.TrainingSiteId)}
	if q.Limit != nil {
		f.Limit = int(*q.Limit)
	}
	if q.Year != nil {
		f.Year = int(*q.Year)
	}
	if q.Route != nil {
		f.Route = certification.RouteID(*q.Route)
	}
	rows, err := s.svc.Statistics(ctx, f)
	if err != nil {
		return nil, err
	}
	out := api.StatisticList{Items: []api.Statistic{}}
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		out.NextCursor = ptr(encodeStatisticsKey(ctx, service.StatisticsKey{Year: last.Year, CertificationCode: last.CertificationCode,
			Route: last.Route, TrainingSiteID: last.TrainingSiteID}))
	}
	for _, r := range rows {
		out.Items = append(out.Items, api.Statistic{Year: int32(r.Year), CertificationCode: r.CertificationCode, Route: api.RouteId(r.Route),
			TrainingSiteId: optUUID(r.TrainingSiteID), Candidates: r.Candidates, Awards: r.Awards, PartialValidations: r.PartialValidations,
			Refusals: r.Refusals, Withdrawals: r.Withdrawals, SuccessRate: r.SuccessRate()})
	}
	return api.GetStatistics200JSONResponse{Body: out}, nil
}

// sequenceRE is a place in the results feed as its cursors write it: a decimal
// number without leading zeros, within an int64.
var sequenceRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,18})$`)

// sequenceCursor reads a cursor of the results feed (and of the certificates, which
// follow it): exactly what encodeSequence issues, or nothing, which is the start.
// Anything else is a 400, never a place that reads as the end of the feed.
func sequenceCursor(ctx context.Context, cursor *string) (int64, error) {
	if cursor == nil || *cursor == "" {
		return 0, nil
	}
	inner, err := openCursor(ctx, *cursor)
	if err != nil {
		return 0, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(inner)
	if err != nil || !sequenceRE.Match(raw) || base64.RawURLEncoding.EncodeToString(raw) != inner {
		return 0, badCursor
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, badCursor
	}
	return n, nil
}

func encodeSequence(ctx context.Context, n int64) string {
	return sealCursor(ctx, base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(n, 10))))
}

// statisticsKeyRE is a statistics row's key as its cursors write it: year,
// certification, route and site (empty for candidates without one).
var statisticsKeyRE = regexp.MustCompile(`^(19[0-9]{2}|2[01][0-9]{2})\|([A-Z0-9]{1,20})\|([a-z_]{1,40})\|(` + uuidPattern[1:len(uuidPattern)-1] + `)?$`)

// statisticsCursor reads a cursor of the statistics: exactly what
// encodeStatisticsKey issues, or nothing, which is the start.
func statisticsCursor(ctx context.Context, cursor *string) (*service.StatisticsKey, error) {
	if cursor == nil || *cursor == "" {
		return nil, nil
	}
	inner, err := openCursor(ctx, *cursor)
	if err != nil {
		return nil, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(inner)
	if err != nil || base64.RawURLEncoding.EncodeToString(raw) != inner {
		return nil, badCursor
	}
	m := statisticsKeyRE.FindStringSubmatch(string(raw))
	if m == nil {
		return nil, badCursor
	}
	year, _ := strconv.Atoi(m[1])
	return &service.StatisticsKey{Year: year, CertificationCode: m[2], Route: certification.RouteID(m[3]), TrainingSiteID: m[4]}, nil
}

func encodeStatisticsKey(ctx context.Context, k service.StatisticsKey) string {
	raw := strings.Join([]string{strconv.Itoa(k.Year), k.CertificationCode, string(k.Route), k.TrainingSiteID}, "|")
	return sealCursor(ctx, base64.RawURLEncoding.EncodeToString([]byte(raw)))
}

func toAPIResultEntry(e certification.ResultEntry) api.ResultEntry {
	out := api.ResultEntry{Sequence: e.Sequence, Type: api.ResultEntryType(e.Type), RecordedAt: e.RecordedAt,
		CertificationCode: e.CertificationCode, DecisionId: mustUUID(e.DecisionID), JurySessionId: mustUUID(e.JurySessionID),
		HeldOn: date(e.HeldOn), Outcome: api.Outcome(e.Outcome), ValidatedComponents: toAPIDecided(e.Components),
		Corrects: optUUID(e.CorrectsID), CertificateNumber: nilIfEmpty(e.CertificateNumber),
		Candidate: api.ResultCandidate{Id: mustUUID(e.Candidate.ID), FirstName: e.Candidate.FirstName, BirthName: e.Candidate.BirthName,
			UsageName: nilIfEmpty(e.Candidate.UsageName), TrainingSiteId: optUUID(e.Candidate.TrainingSiteID), Route: api.RouteId(e.Candidate.Route)}}
	if e.CertificateStatus != "" {
		out.CertificateStatus = ptr(api.ResultEntryCertificateStatus(e.CertificateStatus))
	}
	return out
}

// toAPIWebhookEvent is the body of a delivery of an entry: the event, when it
// happened, and the entry as the feed shows it.
func toAPIWebhookEvent(e certification.ResultEntry) api.WebhookEvent {
	return api.WebhookEvent{Type: api.WebhookEventType(webhook.EventOf(e.Type)), Timestamp: e.RecordedAt, Data: toAPIResultEntry(e)}
}

// WebhookPayload renders the body of a delivery of an entry, the WebhookEvent of
// the contract: the same bytes on every attempt.
func WebhookPayload(e certification.ResultEntry) ([]byte, error) {
	return json.Marshal(toAPIWebhookEvent(e))
}
