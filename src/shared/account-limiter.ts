/**
 * The account limiter's messages and types: one long-lived `hookAccountLimiter` workflow per Hook
 * account hands out permits for items in flight, so concurrent campaigns of one account never
 * have more Hook items queued or in progress than the account's limit, and counts the orders of
 * the month against its budget. Workflow-safe.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export const ACCOUNT_LIMITER_WORKFLOW = 'hookAccountLimiter';

/** The limiter's workflow id for an account label. */
export function accountLimiterId(account: string): string {
  return `dedl-account/${account}`;
}

export interface AccountLimits {
  /** Items (of every campaign) queued or in progress at the Hook at once. */
  maxItemsInFlight: number;
  /** Orders per calendar month (UTC). */
  monthlyOrders: number;
}

/** A campaign asks for room for one order of `items` items; `key` is the order's child workflow id. */
export interface PermitRequest {
  key: string;
  /** Workflow id of the campaign: where the grant is signalled. */
  holder: string;
  items: number;
}

/** Signalled to the holder: room for `items` items (at most the request's, at most the account's limit). */
export interface PermitGrant {
  key: string;
  items: number;
  limits: AccountLimits;
  /** Orders granted this month, this grant included. */
  ordersThisMonth: number;
}

export interface AccountStatus {
  account: string;
  limits: AccountLimits;
  inUse: number;
  /** The most items ever held at once (never above the limit in force at the time). */
  peakInUse: number;
  held: { key: string; holder: string; items: number; since: string }[];
  waiting: { key: string; holder: string; items: number }[];
  month: string;
  ordersThisMonth: number;
  ordersLeftThisMonth: number;
}

export interface LimiterInput {
  account: string;
  limits: AccountLimits;
  /** How often holders are checked for having ended without releasing (terminated campaigns). Default 5m. */
  reapEvery?: string;
  /** Continue as new past this many history events. Default 5000. */
  continueAsNewAfterEvents?: number;
}

export const acquirePermitSignal = defineSignal<[PermitRequest]>('acquire');
/** Frees a held permit, or withdraws a waiting request. Idempotent. */
export const releasePermitSignal = defineSignal<[{ key: string; unused?: boolean }]>('release');
/** Frees everything a holder has or waits for (a campaign that ends or is cancelled). */
export const releaseHolderSignal = defineSignal<[{ holder: string }]>('releaseHolder');
export const permitGrantedSignal = defineSignal<[PermitGrant]>('permitGranted');
export const accountStatusQuery = defineQuery<AccountStatus>('accountStatus');
export const setAccountLimitsUpdate = defineUpdate<AccountStatus, [Partial<AccountLimits>]>('setAccountLimits');
