/** Small helpers for writing HTML by hand. */

import { escapeHtml } from "../text/escape-html.ts";
