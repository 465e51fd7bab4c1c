import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/index.js';
import { peer } from '../../src/peer.js';

describe('optional peers', () => {
  it('a missing one is a ConfigError naming the feature and the package to install', () => {
    assert.throws(
      () => peer('tiercache-no-such-package', 'client'),
      (error: unknown) =>
        error instanceof ConfigError &&
        /client/.test(error.message) &&
        /npm install tiercache-no-such-package/.test(error.message),
    );
  });

  it('an installed one loads once', () => {
    const first = peer<{ createClient: unknown }>('@redis/client', 'client');
    assert.equal(typeof first.createClient, 'function');
    assert.equal(peer('@redis/client', 'client'), first);
  });
});
