import Type from 'typebox';
import { ERROR_STATUS, type ErrorCode } from './codes.ts';

/**
 * The contract's error body (`ErrorBody`) as a schema, for the OpenAPI document only: errors are shaped by
 * `errors/http.ts` and sent without a response schema, so nothing validates or serializes them with this.
 */
export const ErrorView = Type.Object(
  {
    error: Type.Object({
      code: Type.Unsafe<ErrorCode>({
        type: 'string',
        enum: Object.keys(ERROR_STATUS),
        description: 'Stable: what a client branches on. Each code has one HTTP status (docs/api.md).',
      }),
      message: Type.String({
        description: 'For people; a validation error names the field first: `text: must not be blank`.',
      }),
      details: Type.Optional(
        Type.Array(Type.Unknown(), {
          description:
            'Per field for validation errors (`{field, in, problem}`); the limit for `limit_exceeded` and ' +
            '`rate_limited`.',
        }),
      ),
    }),
  },
  { description: 'Every refusal of the native API, with the code that belongs to its status.' },
);
