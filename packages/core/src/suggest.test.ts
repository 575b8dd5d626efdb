import { describe, expect, it } from 'vitest';
import { closestName, didYouMean } from './suggest.js';

describe('closestName', () => {
  it('finds a typo: a swap, a missing or an extra letter, another case', () => {
    expect(closestName('prodcuts', ['products', 'orders'])).toBe('products');
    expect(closestName('prducts', ['products', 'orders'])).toBe('products');
    expect(closestName('orderss', ['products', 'orders'])).toBe('orders');
    expect(closestName('Orders', ['products', 'orders'])).toBe('orders');
  });

  it('suggests nothing for a name far from every candidate, or an exact match', () => {
    expect(closestName('billing', ['products', 'orders'])).toBeUndefined();
    expect(closestName('orders', ['orders'])).toBeUndefined();
    expect(didYouMean('billing', ['orders'])).toBe('');
    expect(didYouMean('ordrs', ['orders'])).toBe('; did you mean "orders"?');
  });
});
