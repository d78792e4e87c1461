// What a list request asks of a service: the plugins' interface, parsed from the query string by
// src/api/listing.ts. The store answers it (its own ListOptions has the same shape), but the API
// layer speaks to the plugins, not to the database.

export interface TagFilters {
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
  notTagsAny?: string[];
}

export interface ListOptions {
  /** attr → accepted values (OR within a key, AND across keys), already converted. */
  filters: Record<string, unknown[]>;
  tagFilters?: TagFilters;
  /** ISO timestamp: only what changed since (changed_since). */
  changedSince?: string;
  sorts: Array<[string, 'asc' | 'desc']>;
  limit?: number;
  /** The id of the last item of the previous page. */
  marker?: string;
  pageReverse?: boolean;
}
