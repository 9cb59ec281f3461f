/**
 * Filter rows as Mastodon's Filter, FilterKeyword, FilterStatus, FilterResult
 * and (for old clients) V1::Filter entities.
 */
import type { FilterKeywordRow, FilterMatch, FilterRow, FilterStatusRow } from "../../core/filters.ts";

export type { FilterKeywordRow, FilterRow, FilterStatusRow };

export interface MastodonFilterKeyword {
  id: string;
  keyword: string;
  whole_word: boolean;
}

export interface MastodonFilterStatus {
  id: string;
  status_id: string;
}

export interface MastodonFilter {
  id: string;
  title: string;
  context: string[];
  expires_at: string | null;
  filter_action: FilterRow["filterAction"];
  /** Omitted inside a FilterResult. */
  keywords?: MastodonFilterKeyword[];
  /** Omitted inside a FilterResult. */
  statuses?: MastodonFilterStatus[];
}

/** Why a status matched one of the viewer's filters (Status.filtered[]). */
export interface MastodonFilterResult {
  filter: MastodonFilter;
  keyword_matches: string[] | null;
  status_matches: string[] | null;
}

export interface MastodonV1Filter {
  id: string;
  phrase: string;
  context: string[];
  whole_word: boolean;
  expires_at: string | null;
  irreversible: boolean;
}

export function serializeFilterKeyword(row: FilterKeywordRow): MastodonFilterKeyword {
  return { id: row.id.toString(), keyword: row.keyword, whole_word: row.wholeWord };
}

export function serializeFilterStatus(row: FilterStatusRow): MastodonFilterStatus {
  return { id: row.id.toString(), status_id: row.statusId.toString() };
}

/**
 * A filter; with its keywords and statuses unless `rules` is null (the
 * shape nested in a FilterResult).
 */
export function serializeFilter(
  filter: FilterRow,
  rules: { keywords: readonly FilterKeywordRow[]; statuses: readonly FilterStatusRow[] } | null,
): MastodonFilter {
  const json: MastodonFilter = {
    id: filter.id.toString(),
    title: filter.title,
    context: [...filter.context],
    expires_at: filter.expiresAt == null ? null : filter.expiresAt.toISOString(),
    filter_action: filter.filterAction,
  };
  if (rules != null) {
    json.keywords = rules.keywords.map(serializeFilterKeyword);
    json.statuses = rules.statuses.map(serializeFilterStatus);
  }
  return json;
}

/** Why a status matched a filter, as Mastodon's FilterResult. */
export function serializeFilterResult(match: FilterMatch): MastodonFilterResult {
  return {
    filter: serializeFilter(match.filter, null),
    keyword_matches: match.keywordMatches,
    status_matches: match.statusMatches,
  };
}

/** One keyword seen through the v1 API: a filter of one phrase. */
export function serializeV1Filter(keyword: FilterKeywordRow, filter: FilterRow): MastodonV1Filter {
  return {
    id: keyword.id.toString(),
    phrase: keyword.keyword,
    context: [...filter.context],
    whole_word: keyword.wholeWord,
    expires_at: filter.expiresAt == null ? null : filter.expiresAt.toISOString(),
    irreversible: filter.filterAction === "hide",
  };
}
