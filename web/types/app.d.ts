// Helpers over the generated spec types (types/api.d.ts), so that api.js is
// typed by path and method. Written by hand; the spec types are generated.
import type { paths, components } from './api';

export type Schemas = components['schemas'];
export type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';
export type Path = keyof paths;

/** The paths that have an operation for this method. */
export type PathFor<M extends Method> = {
  [P in Path]: paths[P] extends { [K in M]: infer O } ? ([O] extends [undefined] ? never : P) : never;
}[Path];

type Op<P extends Path, M extends Method> = NonNullable<paths[P][M]>;
type ContentOf<T> = T extends { content: infer C } ? C[keyof C] : never;

/** The JSON body the operation takes (never when it takes none). */
export type BodyOf<P extends Path, M extends Method> =
  Op<P, M> extends { requestBody: infer R } ? ContentOf<R> :
  Op<P, M> extends { requestBody?: infer R } ? ContentOf<NonNullable<R>> : never;

/** The query parameters of the operation. */
export type QueryOf<P extends Path, M extends Method> =
  Op<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/** The path parameters of the operation. */
export type ParamsOf<P extends Path, M extends Method> =
  Op<P, M> extends { parameters: { path?: infer Q } } ? NonNullable<Q> : never;

type Responses<P extends Path, M extends Method> = Op<P, M> extends { responses: infer R } ? R : never;
/** The JSON of the operation's success answer (200 or 201; undefined for 204). */
export type OkOf<P extends Path, M extends Method> =
  | (Responses<P, M> extends { 200: infer R } ? ContentOf<R> : never)
  | (Responses<P, M> extends { 201: infer R } ? ContentOf<R> : never)
  | (Responses<P, M> extends { 204: any } ? undefined : never);
