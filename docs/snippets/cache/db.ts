/** A stand-in database for the cache snippets: counts the reads, so the snippets can show what was cached. */

/** A product row. */
export interface ProductRow {
  id: string;
  name: string;
  price: number;
}

/** A user row. */
export interface UserRow {
  id: string;
  name: string;
}

const products = new Map<string, ProductRow>([['p1', { id: 'p1', name: 'keyboard', price: 49 }]]);
const users = new Map<string, UserRow>([['u1', { id: 'u1', name: 'Ada' }]]);

/** The database, with read counters. */
export const db = {
  reads: { products: 0, users: 0 },
  products: {
    async find(id: string): Promise<ProductRow> {
      db.reads.products++;
      const row = products.get(id);
      if (row === undefined) throw new Error(`no product ${id}`);
      return { ...row };
    },
    async update({ id, price }: { id: string; price: number }): Promise<void> {
      const row = products.get(id);
      if (row !== undefined) row.price = price;
    },
  },
  users: {
    async find(id: string): Promise<UserRow | undefined> {
      db.reads.users++;
      return users.get(id);
    },
  },
};
