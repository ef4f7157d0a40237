import { REVIEWS } from '#shared/api/contract/reviews.ts';
import { apiHandler, ok } from '#shared/http/api.ts';
import {
  applyInstance,
  createReview,
  decideReview,
  getReview,
  listDecisions,
  listInstances,
  listMyReviews,
  listReviews,
  stopInstance,
} from '#shared/usecases/reviews.ts';

export const handler = apiHandler('reviews', REVIEWS, {
  createAccessReview: async ({ ctx, body }) => ok(await createReview(ctx, body)),
  listAccessReviews: async ({ ctx, query }) => ok(await listReviews(ctx, query)),
  getAccessReview: async ({ ctx, params }) => ok(await getReview(ctx, params.id)),
  listAccessReviewInstances: async ({ ctx, params, query }) => ok(await listInstances(ctx, params.id, query)),
  listAccessReviewDecisions: async ({ ctx, params, query }) =>
    ok(await listDecisions(ctx, params.id, params.instanceId, query)),
  decideAccessReview: async ({ ctx, params, body }) =>
    ok(await decideReview(ctx, params.id, params.instanceId, params.decisionId, body)),
  stopAccessReviewInstance: async ({ ctx, params }) => ok(await stopInstance(ctx, params.id, params.instanceId)),
  applyAccessReviewInstance: async ({ ctx, params }) => ok(await applyInstance(ctx, params.id, params.instanceId)),
  listMyReviews: async ({ ctx, query }) => ok(await listMyReviews(ctx, query)),
});
