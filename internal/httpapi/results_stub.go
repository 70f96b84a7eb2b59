package httpapi

import (
	"context"

	"github.com/apformation/certapi/api"
)

// Not built yet: each answers 501 until its capability lands.

func (s *server) CreateWebhookSubscription(ctx context.Context, request api.CreateWebhookSubscriptionRequestObject) (api.CreateWebhookSubscriptionResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) DeleteWebhookSubscription(ctx context.Context, request api.DeleteWebhookSubscriptionRequestObject) (api.DeleteWebhookSubscriptionResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) GetStatistics(ctx context.Context, request api.GetStatisticsRequestObject) (api.GetStatisticsResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) GetWebhookSubscription(ctx context.Context, request api.GetWebhookSubscriptionRequestObject) (api.GetWebhookSubscriptionResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ListCertificates(ctx context.Context, request api.ListCertificatesRequestObject) (api.ListCertificatesResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ListResults(ctx context.Context, request api.ListResultsRequestObject) (api.ListResultsResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ListWebhookDeliveries(ctx context.Context, request api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) ListWebhookSubscriptions(ctx context.Context, request api.ListWebhookSubscriptionsRequestObject) (api.ListWebhookSubscriptionsResponseObject, error) {
	return nil, errNotBuilt
}

func (s *server) UpdateWebhookSubscription(ctx context.Context, request api.UpdateWebhookSubscriptionRequestObject) (api.UpdateWebhookSubscriptionResponseObject, error) {
	return nil, errNotBuilt
}
