import type { FunctionName, ROUTES } from './routes.ts';

type RouteUnion = (typeof ROUTES)[number];
export type OperationId = RouteUnion['operationId'];
export type OperationsOf<F extends FunctionName> = Extract<RouteUnion, { fn: F }>['operationId'];
