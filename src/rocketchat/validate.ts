import { z } from 'zod';
import { badResponse, errorFromResponse } from '../errors.js';
import type { WireErrorBody, WireVisitor } from './models.js';

/**
 * The shape check between Rocket.Chat and the resolvers: what passes here is safe to map field by
 * field. Objects stay loose so that fields a newer server adds never fail a query; `status` stays
 * a plain string so that an unknown value is a warning (Visitor.ts), not an error.
 */
const isoDate = z.iso.datetime({ offset: true });
const email = z.looseObject({ address: z.string() });

const WireVisitorSchema = z.looseObject({
  _id: z.string().min(1),
  _updatedAt: isoDate.optional(),
  username: z.string().optional(),
  ts: isoDate.optional(),
  token: z.string().optional(),
  department: z.string().optional(),
  name: z.string().optional(),
  phone: z.array(z.looseObject({ phoneNumber: z.string() })).nullable().optional(),
  lastChat: z.looseObject({ _id: z.string(), ts: isoDate.optional() }).optional(),
  userAgent: z.string().optional(),
  ip: z.string().optional(),
  host: z.string().optional(),
  visitorEmails: z.array(email).optional(),
  externalIds: z
    .array(z.looseObject({ appId: z.string(), entityId: z.string(), metadata: z.record(z.string(), z.unknown()).optional() }))
    .optional(),
  status: z.string().optional(),
  lastAgent: z.looseObject({ username: z.string().optional(), agentId: z.string(), ts: isoDate.optional() }).optional(),
  livechatData: z.record(z.string(), z.unknown()).optional(),
  contactManager: z
    .looseObject({
      _id: z.string().optional(),
      username: z.string().optional(),
      name: z.string().optional(),
      emails: z.array(email).optional(),
    })
    .optional(),
  activity: z.array(z.string()).optional(),
  disabled: z.boolean().optional(),
});

const SuccessSchema = z.looseObject({ success: z.literal(true), visitor: WireVisitorSchema });

/** Turns one visitors.info answer into a visitor or the catalogue error for it. */
export function parseVisitorsInfo(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
): WireVisitor {
  if (status !== 200) throw errorFromResponse(status, body as WireErrorBody | undefined, headers);
  if (body && typeof body === 'object' && (body as WireErrorBody).success === false) {
    throw errorFromResponse(200, body as WireErrorBody, headers);
  }
  const parsed = SuccessSchema.safeParse(body);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'body';
    throw badResponse(status, `unexpected shape at ${where}`);
  }
  return parsed.data.visitor as WireVisitor;
}
