import 'reflect-metadata';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { CustomersController } from '../customers/customers.controller.js';
import { ImportsController } from '../import/imports.controller.js';
import { PrivacyController } from '../privacy/privacy.controller.js';
import { WriteKeyGuard } from '../sources/write-key.guard.js';
import { TrackingController } from '../tracking/tracking.controller.js';
import { WebhookSignatureGuard } from '../webhooks/webhook-signature.guard.js';
import { WebhooksController } from '../webhooks/webhooks.controller.js';
import { SourceRateLimitGuard } from './source-rate-limit.guard.js';

describe('SourceRateLimitGuard', () => {
  it.each([
    { name: 'TrackingController', controller: TrackingController, authenticate: WriteKeyGuard },
    { name: 'CustomersController', controller: CustomersController, authenticate: WriteKeyGuard },
    { name: 'ImportsController', controller: ImportsController, authenticate: WriteKeyGuard },
    { name: 'PrivacyController', controller: PrivacyController, authenticate: WriteKeyGuard },
    { name: 'WebhooksController', controller: WebhooksController, authenticate: WebhookSignatureGuard },
  ])(
    '$name counts every call against its source, after authenticating it',
    ({ controller, authenticate }) => {
      const guards = Reflect.getMetadata(GUARDS_METADATA, controller) as unknown[];
      expect(guards).toEqual([authenticate, SourceRateLimitGuard]);
    },
  );
});
