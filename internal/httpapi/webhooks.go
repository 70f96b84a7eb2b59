package httpapi

import (
	"context"
	"encoding/json"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/webhook"
)

func (s *server) ListWebhookSubscriptions(ctx context.Context, req api.ListWebhookSubscriptionsRequestObject) (api.ListWebhookSubscriptionsResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	subs, err := s.svc.ListWebhookSubscriptions(ctx, p)
	if err != nil {
		return nil, err
	}
	subs, next := trim(ctx, subs, p, func(w webhook.Subscription) string { return w.ID })
	out := api.WebhookSubscriptionList{Items: make([]api.WebhookSubscription, len(subs)), NextCursor: next}
	for i, w := range subs {
		out.Items[i] = toAPIWebhookSubscription(w)
	}
	return api.ListWebhookSubscriptions200JSONResponse{Body: out}, nil
}

func (s *server) CreateWebhookSubscription(ctx context.Context, req api.CreateWebhookSubscriptionRequestObject) (api.CreateWebhookSubscriptionResponseObject, error) {
	respond := func(sub webhook.Subscription) api.CreateWebhookSubscription201JSONResponse {
		w := toAPIWebhookSubscription(sub)
		return api.CreateWebhookSubscription201JSONResponse{
			Body: api.WebhookSubscriptionWithSecret{Id: w.Id, ClientId: w.ClientId, Url: w.Url, Events: w.Events, Active: w.Active,
				Version: int32(w.Version), CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, Secret: sub.Secret},
			Headers: api.CreateWebhookSubscription201ResponseHeaders{ETag: ptr(etag(sub.Version)), Location: ptr("/v1/webhook-subscriptions/" + sub.ID)},
		}
	}
	answerWith(ctx, respond, api.CreateWebhookSubscription201JSONResponse.VisitCreateWebhookSubscriptionResponse)
	sub, err := s.svc.Subscribe(ctx, webhook.Input{URL: req.Body.Url, Events: eventTypes(req.Body.Events)})
	if err != nil {
		return nil, err
	}
	if a, ok := recordedAnswer(ctx); ok {
		return a, nil
	}
	return respond(sub), nil
}

func (s *server) GetWebhookSubscription(ctx context.Context, req api.GetWebhookSubscriptionRequestObject) (api.GetWebhookSubscriptionResponseObject, error) {
	sub, err := s.svc.GetWebhookSubscription(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	return api.GetWebhookSubscription200JSONResponse{Body: toAPIWebhookSubscription(sub),
		Headers: api.GetWebhookSubscription200ResponseHeaders{ETag: ptr(etag(sub.Version))}}, nil
}

func (s *server) UpdateWebhookSubscription(ctx context.Context, req api.UpdateWebhookSubscriptionRequestObject) (api.UpdateWebhookSubscriptionResponseObject, error) {
	expected, err := versionFromIfMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	current, err := s.svc.GetWebhookSubscription(ctx, req.Id.String())
	if err != nil {
		return nil, err
	}
	if expected, err = basedOn(current.Version, expected); err != nil {
		return nil, err
	}
	in := webhook.Input{URL: current.URL, Events: current.Events, Active: current.Active}
	if b := req.Body; b != nil {
		if b.Url != nil {
			in.URL = *b.Url
		}
		if b.Events != nil {
			in.Events = eventTypes(*b.Events)
		}
		if b.Active != nil {
			in.Active = *b.Active
		}
	}
	sub, err := s.svc.UpdateWebhookSubscription(ctx, current.ID, expected, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateWebhookSubscription200JSONResponse{Body: toAPIWebhookSubscription(sub),
		Headers: api.UpdateWebhookSubscription200ResponseHeaders{ETag: ptr(etag(sub.Version))}}, nil
}

func (s *server) DeleteWebhookSubscription(ctx context.Context, req api.DeleteWebhookSubscriptionRequestObject) (api.DeleteWebhookSubscriptionResponseObject, error) {
	if err := s.svc.DeleteWebhookSubscription(ctx, req.Id.String()); err != nil {
		return nil, err
	}
	return api.DeleteWebhookSubscription204Response{}, nil
}

func (s *server) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	p, err := page(ctx, req.Params.Limit, req.Params.Cursor)
	if err != nil {
		return nil, err
	}
	f := service.DeliveryFilter{SubscriptionID: req.Id.String(), Before: p.After, Limit: p.Limit}
	if req.Params.Status != nil {
		f.Status = webhook.Status(*req.Params.Status)
	}
	deliveries, err := s.svc.WebhookDeliveries(ctx, f)
	if err != nil {
		return nil, err
	}
	deliveries, next := trim(ctx, deliveries, p, func(d service.DeliveryView) string { return d.ID })
	out := api.WebhookDeliveryList{Items: make([]api.WebhookDelivery, len(deliveries)), NextCursor: next}
	for i, d := range deliveries {
		if out.Items[i], err = toAPIWebhookDelivery(d); err != nil {
			return nil, err
		}
	}
	return api.ListWebhookDeliveries200JSONResponse{Body: out}, nil
}

func eventTypes(in []api.WebhookEventType) []webhook.EventType {
	out := make([]webhook.EventType, len(in))
	for i, e := range in {
		out[i] = webhook.EventType(e)
	}
	return out
}

func toAPIWebhookSubscription(w webhook.Subscription) api.WebhookSubscription {
	out := api.WebhookSubscription{Id: mustUUID(w.ID), ClientId: w.PublicClientID, Url: w.URL, Events: make([]api.WebhookEventType, len(w.Events)),
		Active: w.Active, Version: int32(w.Version), CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	for i, e := range w.Events {
		out.Events[i] = api.WebhookEventType(e)
	}
	return out
}

func toAPIWebhookDelivery(d service.DeliveryView) (api.WebhookDelivery, error) {
	out := api.WebhookDelivery{Id: d.ID, SubscriptionId: mustUUID(d.SubscriptionID), EventType: api.WebhookEventType(d.Event),
		Status: api.WebhookDeliveryStatus(d.Status), Attempts: make([]api.WebhookAttempt, len(d.Attempts)),
		NextAttemptAt: d.NextAttemptAt, CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt}
	for i, a := range d.Attempts {
		out.Attempts[i] = api.WebhookAttempt{AttemptedAt: a.At, Error: nilIfEmpty(a.Error), DurationMs: int32(a.Duration.Milliseconds())}
		if a.StatusCode != 0 {
			out.Attempts[i].StatusCode = ptr(int32(a.StatusCode))
		}
	}
	body, err := WebhookPayload(d.Entry)
	if err != nil {
		return out, err
	}
	return out, json.Unmarshal(body, &out.Payload)
}
