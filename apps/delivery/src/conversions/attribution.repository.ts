import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { MONGO_DB } from '@mesh/storage';
import { type Collection, type Db } from 'mongodb';

export type TouchKind = 'click' | 'open' | 'send';

export interface Touch {
  kind: TouchKind;
  profileId: string;
  sendId: string;
  campaignId: string;
  triggerKey: string;
  variant?: string;
  at: Date;
}

interface TouchDocument extends Touch {
  /** `<kind>:<send id>`: one touch of each kind per email, at its latest time. */
  _id: string;
  schemaVersion: 1;
}

export interface Conversion {
  orderId: string;
  profileId: string;
  touch: Touch;
  revenue: number;
  currency: string;
  at: Date;
}

interface ConversionDocument extends Conversion {
  /** The order id: an order converts once, whatever redelivers it. */
  _id: string;
  schemaVersion: 1;
}

/** An order no email touch was found for (yet): a merge may still bring one. */
export type UncreditedOrder = Omit<Conversion, 'touch'>;

/** A profile merged into another: orders and touches reported for it late belong to the survivor. */
interface MergedProfileDocument {
  /** The merged profile's id. */
  _id: string;
  survivorId: string;
}

interface UncreditedOrderDocument extends UncreditedOrder {
  /** The order id. */
  _id: string;
  schemaVersion: 1;
}

/** The emails' touches per profile (sent, opened, clicked), the orders credited to them, and the orders not. */
@Injectable()
export class AttributionRepository implements OnModuleInit {
  private readonly touches: Collection<TouchDocument>;
  private readonly conversions: Collection<ConversionDocument>;
  private readonly uncredited: Collection<UncreditedOrderDocument>;
  private readonly mergedProfiles: Collection<MergedProfileDocument>;

  constructor(@Inject(MONGO_DB) db: Db) {
    this.touches = db.collection<TouchDocument>('touches');
    this.conversions = db.collection<ConversionDocument>('conversions');
    this.uncredited = db.collection<UncreditedOrderDocument>('uncredited_orders');
    this.mergedProfiles = db.collection<MergedProfileDocument>('merged_profiles');
  }

  async onModuleInit(): Promise<void> {
    await this.touches.createIndex({ profileId: 1, kind: 1, at: -1 });
    await this.conversions.createIndex({ profileId: 1 });
    await this.uncredited.createIndex({ profileId: 1, at: -1 });
  }

  /** Keeps an order nothing was credited for, so that a merge bringing a touch can still credit it. */
  async holdUncredited(order: UncreditedOrder): Promise<void> {
    await this.uncredited.updateOne(
      { _id: order.orderId },
      { $setOnInsert: { ...order, schemaVersion: 1 } },
      { upsert: true },
    );
  }

  /** The profile's uncredited orders placed since `since`, oldest first. */
  async uncreditedOf(profileId: string, since: Date): Promise<UncreditedOrder[]> {
    const found = await this.uncredited
      .find({ profileId, at: { $gte: since } })
      .sort({ at: 1 })
      .toArray();
    return found.map(({ _id: _key, schemaVersion: _version, ...order }) => order);
  }

  async dropUncredited(orderId: string): Promise<void> {
    await this.uncredited.deleteOne({ _id: orderId });
  }

  /** Forgets the uncredited orders placed before `before`: no touch could be credited for them any more. */
  async forgetUncreditedBefore(before: Date): Promise<number> {
    return (await this.uncredited.deleteMany({ at: { $lt: before } })).deletedCount;
  }

  /** Records a touch; a later touch of the same kind and email moves its time forward. */
  async touch(touch: Touch): Promise<void> {
    const { at, ...rest } = touch;
    await this.touches.updateOne(
      { _id: `${touch.kind}:${touch.sendId}` },
      { $setOnInsert: { ...rest, schemaVersion: 1 }, $max: { at } },
      { upsert: true },
    );
  }

  /** The profile's latest touch of this kind in [from, to]. */
  async latest(profileId: string, kind: TouchKind, from: Date, to: Date): Promise<Touch | undefined> {
    const [found] = await this.touches
      .find({ profileId, kind, at: { $gte: from, $lte: to } })
      .sort({ at: -1 })
      .limit(1)
      .toArray();
    if (!found) return undefined;
    const { _id: _key, schemaVersion: _version, ...touch } = found;
    return touch;
  }

  /** Records the conversion unless the order already converted; returns the conversion as stored. */
  async convert(conversion: Conversion): Promise<Conversion> {
    await this.conversions.updateOne(
      { _id: conversion.orderId },
      { $setOnInsert: { ...conversion, schemaVersion: 1 } },
      { upsert: true },
    );
    const stored = await this.conversions.findOne({ _id: conversion.orderId });
    const { _id: _key, schemaVersion: _version, ...kept } = stored!;
    return kept;
  }

  /** Remembers where merged profiles went, before anything of theirs moves (see `liveProfile`). */
  async recordMerge(mergedIds: readonly string[], survivorId: string): Promise<void> {
    await this.mergedProfiles.bulkWrite(
      mergedIds.map((id) => ({
        updateOne: { filter: { _id: id }, update: { $set: { survivorId } }, upsert: true },
      })),
      { ordered: false },
    );
  }

  /** The profile this one lives in now, following merges (itself when never merged). */
  async liveProfile(profileId: string): Promise<string> {
    let current = profileId;
    for (let hop = 0; hop < 16; hop++) {
      const merged = await this.mergedProfiles.findOne({ _id: current });
      if (!merged || merged.survivorId === current) return current;
      current = merged.survivorId;
    }
    return current;
  }

  /**
   * Profiles merged into a survivor: their touches count for the survivor's orders, and their
   * uncredited orders become the survivor's. Idempotent.
   */
  async moveToSurvivor(mergedIds: readonly string[], survivorId: string): Promise<number> {
    const filter = { profileId: { $in: [...mergedIds] } };
    const touches = await this.touches.updateMany(filter, { $set: { profileId: survivorId } });
    const orders = await this.uncredited.updateMany(filter, { $set: { profileId: survivorId } });
    return touches.modifiedCount + orders.modifiedCount;
  }

  async erase(profileIds: readonly string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    const filter = { profileId: { $in: [...profileIds] } };
    const touches = await this.touches.deleteMany(filter);
    const conversions = await this.conversions.deleteMany(filter);
    const uncredited = await this.uncredited.deleteMany(filter);
    const ids = [...profileIds];
    await this.mergedProfiles.deleteMany({ _id: { $in: ids } });
    await this.mergedProfiles.deleteMany({ survivorId: { $in: ids } });
    return touches.deletedCount + conversions.deletedCount + uncredited.deletedCount;
  }
}
