import { describe, expect, it } from 'vitest';
import { appNameFor } from './app-name.js';

describe('appNameFor', () => {
  it('makes the directory name a valid app name', () => {
    expect(appNameFor('my-app')).toBe('my-app');
    expect(appNameFor('/home/ada/My Shop')).toBe('my-shop');
    expect(appNameFor('./apps/2024_orders.v2/')).toBe('orders-v2');
    expect(appNameFor('___')).toBe('blueprint-app');
  });
});
