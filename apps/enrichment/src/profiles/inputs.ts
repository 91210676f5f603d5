import { type EventType, type ResolvedConsentPayload } from '@mesh/contracts';
import { type EnvelopeOf } from '@mesh/messaging';
import { type ProfileInput } from './profile-input.js';

type ResolvedEnvelope = EnvelopeOf<'identity.resolved.*'>;

function contextTraits(data: ResolvedEnvelope['data']): Record<string, unknown> {
  const traits = data.context?.traits;
  return traits !== null && typeof traits === 'object' && !Array.isArray(traits)
    ? (traits as Record<string, unknown>)
    : {};
}

/** What a resolved event tells about its profile. */
export function inputOfResolved(type: EventType, envelope: ResolvedEnvelope): ProfileInput {
  const data = envelope.data;
  const at = envelope.occurredAt;
  const fromContext = contextTraits(data);
  switch (type) {
    case 'identify':
    case 'profile':
      return { kind: 'traits', at, traits: { ...fromContext, ...('traits' in data ? data.traits : {}) } };
    case 'track':
      return 'event' in data
        ? { kind: 'track', at, event: data.event, properties: data.properties, traits: fromContext }
        : { kind: 'traits', at, traits: fromContext };
    case 'page':
    case 'screen': {
      const category = 'category' in data && typeof data.category === 'string' ? data.category : undefined;
      const properties = 'properties' in data ? data.properties : {};
      return { kind: 'page', at, ...(category ? { category } : {}), properties, traits: fromContext };
    }
    case 'consent': {
      const { consent, traits } = data as ResolvedConsentPayload;
      const { status, source, at: statedAt } = consent;
      return {
        kind: 'consent',
        at,
        consent: { status, source, at: statedAt },
        traits: { ...fromContext, ...(traits ?? {}) },
      };
    }
    // A group's traits describe the group, an alias only links ids: both just mark the person seen.
    case 'group':
    case 'alias':
      return { kind: 'traits', at, traits: fromContext };
  }
}
