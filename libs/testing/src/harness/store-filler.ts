import { BSON, type Collection, type Document, MongoClient, MongoBulkWriteError, ObjectId } from 'mongodb';

const { EJSON } = BSON;

const INSERT_BATCH = 2_000;
const DUPLICATE_KEY = 11000;

export interface FillReport {
  /** `<database>.<collection>` → documents there after filling. */
  readonly collections: ReadonlyMap<string, number>;
}

/**
 * Makes the store look like one that has served many more shoppers: every collection that holds a
 * document per shopper after a warm-up (at least `minimumDocuments`) gets `copies` copies of each,
 * with every occurrence of the shoppers' own tokens made unique per copy, and the `_id` made unique
 * when the tokens do not reach it (a hash). Tokens are what the shoppers' ids, addresses and carts
 * contain, and the ids the mesh gave them (their profile ids: without those, every copy of a shopper
 * would belong to one profile). A copy that would break another unique index is left out.
 * Collections of configuration (one campaign, one template) are left alone.
 */
export async function fillLikeShoppers(
  mongoUrl: string,
  databases: readonly string[],
  tokens: readonly string[],
  copies: number,
  minimumDocuments: number,
): Promise<FillReport> {
  const client = new MongoClient(mongoUrl);
  const collections = new Map<string, number>();
  const tokenPattern = new RegExp(tokens.map(escapeRegExp).join('|'), 'g');
  try {
    const names = await Promise.all(
      databases.map(async (database) =>
        (await client.db(database).listCollections({}, { nameOnly: true }).toArray()).map(
          ({ name }) => [database, name] as const,
        ),
      ),
    );
    // Side by side: FerretDB writes each batch in a transaction of its own, one table each.
    await Promise.all(
      names.flat().map(async ([database, name]) => {
        const collection = client.db(database).collection(name);
        const count = await fillCollection(collection, tokenPattern, copies, minimumDocuments);
        if (count !== undefined) collections.set(`${database}.${name}`, count);
      }),
    );
  } finally {
    await client.close();
  }
  return { collections };
}

/** Copies of each document, or nothing for a collection smaller than `minimumDocuments`. */
async function fillCollection(
  collection: Collection,
  tokenPattern: RegExp,
  copies: number,
  minimumDocuments: number,
): Promise<number | undefined> {
  const originals = await collection.find({}).toArray();
  if (originals.length < minimumDocuments) return undefined;
  const templates = originals.map((document) => EJSON.stringify(document, { relaxed: false }));
  const copiesPerBatch = Math.ceil(INSERT_BATCH / templates.length);
  let inserted = originals.length;
  for (let first = 1; first <= copies; first += copiesPerBatch) {
    const batch: Document[] = [];
    for (let k = first; k <= Math.min(copies, first + copiesPerBatch - 1); k++) {
      for (const [index, template] of templates.entries()) {
        const copy = EJSON.parse(
          template.replace(tokenPattern, (token: string) => `${token}c${k}`),
          {
            relaxed: false,
          },
        ) as Document;
        if (EJSON.stringify(copy._id) === EJSON.stringify(originals[index]!._id)) {
          copy._id = distinctId(copy._id, k);
        }
        batch.push(copy);
      }
    }
    inserted += await insertIgnoringDuplicates(collection, batch);
  }
  // Counted here: FerretDB answers a count by reading every row.
  return inserted;
}

function distinctId(id: unknown, copy: number): unknown {
  if (id instanceof ObjectId) return new ObjectId();
  if (typeof id === 'string') return `${id}~c${copy}`;
  if (typeof id === 'number') return id + copy * 1e9;
  return new ObjectId();
}

/** Inserts what it can; resolves with how many went in. */
async function insertIgnoringDuplicates(collection: Collection, documents: Document[]): Promise<number> {
  try {
    return (await collection.insertMany(documents, { ordered: false })).insertedCount;
  } catch (error) {
    const onlyDuplicates =
      error instanceof MongoBulkWriteError &&
      [error.writeErrors].flat().every((writeError) => writeError.code === DUPLICATE_KEY);
    if (!onlyDuplicates) throw error;
    return error.insertedCount;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
