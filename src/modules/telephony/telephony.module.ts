import type { FeatureModule } from '../registry.js';
import { telephonyRoutes } from './telephony.routes.js';
import type { TelephonyService } from './telephony.service.js';

/** Built by the composition root, which owns the AMI/ARI adapters it is given. */
export function telephonyModule(telephony: TelephonyService): FeatureModule {
  return {
    name: 'telephony',
    routes: (app) => telephonyRoutes(app, { telephony }),
    start: async () => telephony.start(),
    stop: async () => telephony.stop(),
    exports: { telephony },
  };
}
