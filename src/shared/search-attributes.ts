/**
 * Custom search attributes that make harvests findable in the Temporal UI and with
 * `temporal workflow list --query`. They must be registered on the server: the local stack does
 * it at start; on a cluster run `temporal operator search-attribute create` for each.
 * Search attributes are never encrypted: no secrets or personal data in them.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const HarvestName = defineSearchAttributeKey('HarvestName', SearchAttributeType.KEYWORD);
export const HarvestCollection = defineSearchAttributeKey('HarvestCollection', SearchAttributeType.KEYWORD);
export const HarvestOutcome = defineSearchAttributeKey('HarvestOutcome', SearchAttributeType.KEYWORD);
export const HarvestCampaign = defineSearchAttributeKey('HarvestCampaign', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_KEYS = [HarvestName, HarvestCollection, HarvestOutcome, HarvestCampaign] as const;
