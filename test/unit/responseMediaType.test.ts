import Negotiator from 'negotiator';
import { describe, expect, it } from 'vitest';
import { ResponseMediaTypes, SINGLE_RESULT_MEDIA_TYPES } from '../../src/responseMediaType.js';

const ACCEPTS = [
  'application/graphql-response+json,application/json;q=0.9', // Apollo Client 4
  'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed', // urql
  'application/graphql-response+json, application/json', // graphql-request
  'application/json',
  '*/*',
  'application/*;q=0.2, application/json;q=0.1',
  'application/json;q=0.5, application/graphql-response+json',
  'APPLICATION/JSON',
  'text/html',
  'text/html, application/xhtml+xml',
  'application/graphql-response+json;q=0',
  '',
];

describe('ResponseMediaTypes', () => {
  it.each(ACCEPTS)('chooses what Apollo Server itself would for Accept %j, the first time and from the memo', (accept) => {
    const types = new ResponseMediaTypes();
    const apollos = new Negotiator({ headers: { accept } }).mediaType(SINGLE_RESULT_MEDIA_TYPES);
    expect(types.choose(accept)).toBe(apollos);
    expect(types.choose(accept)).toBe(apollos);
  });

  it('leaves the choice to Apollo when no Accept was sent, and says nothing is acceptable as undefined', () => {
    const types = new ResponseMediaTypes();
    expect(types.choose(undefined)).toBeUndefined();
    expect(types.choose('text/html')).toBeUndefined();
    expect(types.choose('text/html')).toBeUndefined();
  });

  it('answers a flood of distinct and oversized Accept values correctly, remembering only a bounded number', () => {
    const types = new ResponseMediaTypes();
    for (let i = 0; i < 5_000; i++) {
      expect(types.choose(`application/x-${i}, application/json;q=0.${(i % 9) + 1}`)).toBe('application/json; charset=utf-8');
    }
    const long = `${'application/x-long;q=0.1, '.repeat(20)}application/graphql-response+json`;
    expect(types.choose(long)).toBe('application/graphql-response+json; charset=utf-8');
    expect(types.choose(long)).toBe('application/graphql-response+json; charset=utf-8');
  });
});
