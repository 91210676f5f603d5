/**
 * The admin API's OpenAPI description, written by hand (no generator is installed); the integration
 * test checks that every documented path answers, so it cannot drift silently.
 */
const json = (schema: object, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const id = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const problem = json(ref('Problem'), 'invalid request: `fields` names each field at fault');
const missing = json(ref('Problem'), 'not found');

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Personalization Mesh: enrichment admin API',
    version: '1',
    description:
      'Profiles, segments and campaigns. Every call needs `Authorization: Bearer <MESH_ADMIN_TOKEN>`.',
  },
  security: [{ admin: [] }],
  paths: {
    '/api/profiles/{profileId}': {
      get: {
        summary: 'A profile: traits, computed attributes, segments',
        parameters: [id('profileId')],
        responses: { 200: json(ref('Profile')), 404: missing },
      },
    },
    '/api/segments': {
      get: { summary: 'Every segment', responses: { 200: json({ type: 'array', items: ref('Segment') }) } },
      post: {
        summary: 'Create a segment; existing profiles are back-filled in the background',
        requestBody: { required: true, content: { 'application/json': { schema: ref('Segment') } } },
        responses: { 201: json(ref('Segment')), 400: problem, 409: json(ref('Problem'), 'exists') },
      },
    },
    '/api/segments/{segmentId}': {
      get: {
        summary: 'One segment',
        parameters: [id('segmentId')],
        responses: { 200: json(ref('Segment')), 404: missing },
      },
      put: {
        summary: 'Change its rule (back-filled again)',
        parameters: [id('segmentId')],
        requestBody: { required: true, content: { 'application/json': { schema: ref('Segment') } } },
        responses: { 200: json(ref('Segment')), 400: problem, 404: missing },
      },
      delete: {
        summary: 'Delete it',
        parameters: [id('segmentId')],
        responses: { 204: { description: 'deleted' }, 404: missing },
      },
    },
    '/api/segments/{segmentId}/count': {
      get: {
        summary: 'How many profiles are members',
        parameters: [id('segmentId')],
        responses: {
          200: json({
            type: 'object',
            properties: { segmentId: { type: 'string' }, count: { type: 'integer' } },
          }),
        },
      },
    },
    '/api/segments/{segmentId}/members': {
      get: {
        summary: 'Member profile ids in id order; pass `next` as `after` for the next page',
        parameters: [
          id('segmentId'),
          { name: 'after', in: 'query', schema: { type: 'string' } },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        ],
        responses: {
          200: json({
            type: 'object',
            properties: {
              segmentId: { type: 'string' },
              profileIds: { type: 'array', items: { type: 'string' } },
              next: { type: 'string' },
            },
          }),
        },
      },
    },
    '/api/campaigns': {
      get: { summary: 'Every campaign', responses: { 200: json({ type: 'array', items: ref('Campaign') }) } },
      post: {
        summary: 'Create a campaign',
        requestBody: { required: true, content: { 'application/json': { schema: ref('Campaign') } } },
        responses: { 201: json(ref('Campaign')), 400: problem, 409: json(ref('Problem'), 'exists') },
      },
    },
    '/api/campaigns/{campaignId}': {
      get: {
        summary: 'One campaign',
        parameters: [id('campaignId')],
        responses: { 200: json(ref('Campaign')), 404: missing },
      },
      put: {
        summary: 'Replace (or create) it',
        parameters: [id('campaignId')],
        requestBody: { required: true, content: { 'application/json': { schema: ref('Campaign') } } },
        responses: { 200: json(ref('Campaign')), 400: problem },
      },
      delete: {
        summary: 'Delete it',
        parameters: [id('campaignId')],
        responses: { 204: { description: 'deleted' }, 404: missing },
      },
    },
    '/api/campaigns/{campaignId}/broadcasts': {
      post: {
        summary: "Send the campaign to its audience segment's members, paged and throttled",
        parameters: [id('campaignId')],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['broadcastId'],
                properties: {
                  broadcastId: { type: 'string' },
                  ratePerSecond: { type: 'integer', default: 100 },
                },
              },
            },
          },
        },
        responses: { 202: json(ref('Broadcast')), 400: problem, 409: json(ref('Problem'), 'exists') },
      },
    },
    '/api/campaigns/{campaignId}/broadcasts/{broadcastId}': {
      get: {
        summary: "A broadcast's progress",
        parameters: [id('campaignId'), id('broadcastId')],
        responses: { 200: json(ref('Broadcast')), 404: missing },
      },
    },
  },
  components: {
    securitySchemes: { admin: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Problem: {
        type: 'object',
        properties: {
          error: { type: 'string' },
          message: { type: 'string' },
          fields: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
        },
      },
      Rule: {
        description:
          '{"and":[Rule]} | {"or":[Rule]} | {"not":Rule} | {"attr":"traits.x|computed.x|properties.x|segments","op":"eq|ne|gt|gte|lt|lte|in|contains|exists|not_exists","value":any} | {"event":"Order Completed","withinDays":30,"op":"gte","value":2}',
        type: 'object',
      },
      Profile: {
        type: 'object',
        properties: {
          profileId: { type: 'string' },
          traits: { type: 'object' },
          computed: { type: 'object', description: 'ComputedAttributes of libs/contracts' },
          segments: { type: 'array', items: { type: 'string' } },
          version: { type: 'integer' },
        },
      },
      Segment: {
        type: 'object',
        required: ['segmentId', 'name', 'rule'],
        properties: {
          segmentId: { type: 'string' },
          name: { type: 'string' },
          rule: ref('Rule'),
          createdAt: { type: 'string' },
        },
      },
      Campaign: {
        type: 'object',
        required: ['campaignId', 'name', 'enabled', 'templateId', 'recommendation', 'sendPolicy'],
        properties: {
          campaignId: { type: 'string' },
          name: { type: 'string' },
          enabled: { type: 'boolean' },
          trigger: { type: 'object', properties: { event: { type: 'string' }, conditions: ref('Rule') } },
          wait: {
            type: 'object',
            properties: {
              seconds: { type: 'integer' },
              cancelIf: {
                type: 'array',
                items: { type: 'object', properties: { event: { type: 'string' }, conditions: ref('Rule') } },
              },
            },
          },
          audience: { type: 'object', properties: { segmentId: { type: 'string' } } },
          reentry: {
            type: 'object',
            properties: {
              mode: { enum: ['every_key', 'once', 'cooldown'] },
              cooldownSeconds: { type: 'integer' },
            },
          },
          variants: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                weight: { type: 'number' },
                templateId: { type: 'string' },
                templateVersion: { type: 'integer' },
              },
            },
          },
          holdoutPercent: { type: 'number', minimum: 0, maximum: 100 },
          templateId: { type: 'string' },
          templateVersion: { type: 'integer' },
          priority: { type: 'integer' },
          from: { type: 'string' },
          replyTo: { type: 'string' },
          recommendation: {
            type: 'object',
            properties: {
              strategy: { enum: ['none', 'popular', 'trending', 'bought_together', 'personal'] },
              limit: { type: 'integer' },
              category: { type: 'string' },
            },
          },
          sendPolicy: {
            type: 'object',
            properties: { maxPerDay: { type: 'integer' }, transactional: { type: 'boolean' } },
          },
        },
      },
      Broadcast: {
        type: 'object',
        properties: {
          broadcastId: { type: 'string' },
          campaignId: { type: 'string' },
          segmentId: { type: 'string' },
          ratePerSecond: { type: 'integer' },
          status: { enum: ['running', 'done'] },
          sent: { type: 'integer' },
          heldOut: { type: 'integer' },
        },
      },
    },
  },
} as const;
