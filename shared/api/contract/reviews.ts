import * as z from 'zod';
import { Decision, Instance, Review, ReviewDecisionInput, ReviewInput } from '../../domain/review.ts';
import type { OperationsOf } from '../operations.ts';
import { Id, type OperationContract, page, pageQuery } from './common.ts';

/** The contract of the reviews function's operations (the whole contract: ../contract.ts). */
export const REVIEWS = {
  createAccessReview: {
    body: ReviewInput,
    idempotent: true,
    responses: { 201: { description: 'The access review', schema: Review } },
  },
  listAccessReviews: {
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Access reviews, newest first', schema: page(Review) } },
  },
  getAccessReview: {
    params: z.strictObject({ id: Id }),
    responses: { 200: { description: 'The access review', schema: Review } },
  },
  listAccessReviewInstances: {
    params: z.strictObject({ id: Id }),
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Instances, newest first', schema: page(Instance) } },
  },
  listAccessReviewDecisions: {
    params: z.strictObject({ id: Id, instanceId: Id }),
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Decision items', schema: page(Decision) } },
  },
  decideAccessReview: {
    params: z.strictObject({ id: Id, instanceId: Id, decisionId: Id }),
    body: ReviewDecisionInput,
    responses: { 200: { description: 'The decided item', schema: Decision } },
  },
  stopAccessReviewInstance: {
    params: z.strictObject({ id: Id, instanceId: Id }),
    responses: { 200: { description: 'The instance, Completed (Applied when autoApply finished)', schema: Instance } },
  },
  applyAccessReviewInstance: {
    params: z.strictObject({ id: Id, instanceId: Id }),
    responses: { 200: { description: 'The instance (Applied once every denial was applied)', schema: Instance } },
  },
  listMyReviews: {
    query: z.strictObject(pageQuery),
    responses: { 200: { description: 'Items waiting for your decision', schema: page(Decision) } },
  },
} as const satisfies Record<OperationsOf<'reviews'>, OperationContract>;
