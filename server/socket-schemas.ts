// Generated from core/protocol.ts (ServerToClientEvents) by test/openapi.test.ts with CREST_UPDATE_SCHEMAS=1; do not edit.
import type { ServerToClientEvents } from '../core/protocol.ts';

/** JSON Schemas of the socket.io server messages' payloads (roots) and of the named types they use (defs). */
export const SERVER_MESSAGE_SCHEMAS: { roots: Record<keyof ServerToClientEvents, unknown>; defs: Record<string, unknown> } = {
  "roots": {
    "room:tick": {
      "type": "object",
      "properties": {
        "room": {
          "type": "string"
        },
        "cursor": {
          "type": "string"
        },
        "tick": {
          "$ref": "#/components/schemas/Tick"
        }
      },
      "required": [
        "room",
        "cursor",
        "tick"
      ],
      "additionalProperties": false
    },
    "window:update": {
      "type": "object",
      "properties": {
        "room": {
          "type": "string"
        },
        "cursor": {
          "type": "string"
        },
        "window": {
          "$ref": "#/components/schemas/HighlightWindow"
        }
      },
      "required": [
        "room",
        "cursor",
        "window"
      ],
      "additionalProperties": false
    },
    "suggestion:new": {
      "type": "object",
      "properties": {
        "room": {
          "type": "string"
        },
        "cursor": {
          "type": "string"
        },
        "suggestion": {
          "$ref": "#/components/schemas/Suggestion"
        }
      },
      "required": [
        "room",
        "cursor",
        "suggestion"
      ],
      "additionalProperties": false
    },
    "suggestion:acked": {
      "type": "object",
      "properties": {
        "room": {
          "type": "string"
        },
        "ack": {
          "$ref": "#/components/schemas/Ack"
        }
      },
      "required": [
        "room",
        "ack"
      ],
      "additionalProperties": false
    },
    "plan:update": {
      "type": "object",
      "properties": {
        "room": {
          "type": "string"
        },
        "cursor": {
          "type": "string"
        },
        "planId": {
          "type": "string"
        },
        "plan": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "$ref": "#/components/schemas/PlannedMoment"
            }
          ]
        }
      },
      "required": [
        "room",
        "cursor",
        "planId",
        "plan"
      ],
      "additionalProperties": false
    },
    "room:resync": {
      "type": "object",
      "properties": {
        "room": {
          "type": "string"
        }
      },
      "required": [
        "room"
      ],
      "additionalProperties": false
    }
  },
  "defs": {
    "Tick": {
      "type": "object",
      "properties": {
        "room": {
          "type": "string"
        },
        "ts": {
          "type": "number"
        },
        "metrics": {
          "$ref": "#/components/schemas/RoomMetrics"
        }
      },
      "required": [
        "room",
        "ts",
        "metrics"
      ],
      "additionalProperties": false
    },
    "RoomMetrics": {
      "type": "object",
      "properties": {
        "ts": {
          "description": "Event time these figures are for (ms since epoch).",
          "type": "number"
        },
        "concurrency": {
          "type": "number"
        },
        "concurrencySource": {
          "description": "Where `concurrency` came from: the platform's count (fresh within 10 s) or our own viewer sessions.",
          "enum": [
            "platform",
            "sessions"
          ]
        },
        "peakConcurrency": {
          "type": "number"
        },
        "entriesPerMin": {
          "description": "Entries and exits in the last 60 s of event time, by traffic source.",
          "$ref": "#/components/schemas/PerSource"
        },
        "exitsPerMin": {
          "$ref": "#/components/schemas/PerSource"
        },
        "entriesTotal": {
          "$ref": "#/components/schemas/PerSource"
        },
        "exposureTotal": {
          "$ref": "#/components/schemas/PerSource"
        },
        "uniqueViewers": {
          "type": "number"
        },
        "avgWatchSec": {
          "description": "Mean watch time of finished and ongoing sessions, in seconds.",
          "type": "number"
        },
        "watchMinutes": {
          "type": "number"
        },
        "gmv": {
          "description": "GMV = sum of order.paid amounts (gross: refunds are reported apart, not subtracted).",
          "type": "number"
        },
        "orders": {
          "type": "number"
        },
        "ordersCreated": {
          "type": "number"
        },
        "refunds": {
          "type": "number"
        },
        "payingViewers": {
          "type": "number"
        },
        "conversion": {
          "description": "payingViewers / uniqueViewers, 0..1.",
          "type": "number"
        },
        "gmvPerKWatchMin": {
          "type": "number"
        },
        "adSpend": {
          "type": "number"
        },
        "live": {
          "type": "boolean"
        },
        "streamStartTs": {
          "description": "Event time of the stream.start the totals above count from (they are stream-to-date: each stream.start starts them again). Absent while the room has had no stream.start: then they count from its first event.",
          "type": "number"
        },
        "detail": {
          "description": "Rolling windows, per-source splits, spend inside vs outside highlight windows and top products. Present in the room's state (`GET /rooms/:room/state`, snapshots, reports); left out of the 1 s ticks to keep them small.",
          "$ref": "#/components/schemas/MetricsDetail"
        },
        "likes": {
          "type": "number"
        },
        "comments": {
          "type": "number"
        },
        "shares": {
          "type": "number"
        },
        "follows": {
          "type": "number"
        },
        "gifts": {
          "type": "number"
        },
        "events": {
          "description": "Events accepted into the room state, late events among them (counted, not re-windowed).",
          "type": "number"
        },
        "lateEvents": {
          "type": "number"
        },
        "duplicateEvents": {
          "type": "number"
        }
      },
      "required": [
        "ts",
        "concurrency",
        "concurrencySource",
        "peakConcurrency",
        "entriesPerMin",
        "exitsPerMin",
        "entriesTotal",
        "exposureTotal",
        "uniqueViewers",
        "avgWatchSec",
        "watchMinutes",
        "gmv",
        "orders",
        "ordersCreated",
        "refunds",
        "payingViewers",
        "conversion",
        "gmvPerKWatchMin",
        "adSpend",
        "live",
        "likes",
        "comments",
        "shares",
        "follows",
        "gifts",
        "events",
        "lateEvents",
        "duplicateEvents"
      ],
      "additionalProperties": false
    },
    "PerSource": {
      "type": "object",
      "properties": {
        "follow": {
          "type": "number"
        },
        "public": {
          "type": "number"
        },
        "paid": {
          "type": "number"
        },
        "other": {
          "type": "number"
        }
      },
      "required": [
        "follow",
        "public",
        "paid",
        "other"
      ],
      "additionalProperties": false
    },
    "MetricsDetail": {
      "description": "Stream-to-date figures beyond the tick's (DESIGN §5, issue 5 Metrics). Money in minor units.",
      "type": "object",
      "properties": {
        "rolling": {
          "type": "object",
          "properties": {
            "m1": {
              "$ref": "#/components/schemas/RollingMetrics"
            },
            "m5": {
              "$ref": "#/components/schemas/RollingMetrics"
            }
          },
          "required": [
            "m1",
            "m5"
          ],
          "additionalProperties": false
        },
        "concurrencyMean": {
          "description": "Mean concurrency over every detector sample since the first event.",
          "type": "number"
        },
        "clickInRate": {
          "description": "entriesTotal ÷ exposureTotal per source.",
          "$ref": "#/components/schemas/PerSourceRatio"
        },
        "watchMinutesBySource": {
          "description": "Watch time of viewer sessions (entered viewers), by the source they entered from; minutes.",
          "$ref": "#/components/schemas/PerSource"
        },
        "avgWatchSecBySource": {
          "$ref": "#/components/schemas/PerSource"
        },
        "gmvBySource": {
          "description": "GMV by the source of the paying viewer's open session; orders without one are `gmvUnattributed`.",
          "$ref": "#/components/schemas/PerSource"
        },
        "ordersBySource": {
          "$ref": "#/components/schemas/PerSource"
        },
        "gmvUnattributed": {
          "type": "number"
        },
        "adSpendInWindows": {
          "description": "Ad spend (on time, not late) with event time inside a highlight window [onset, end) vs outside it.",
          "type": "number"
        },
        "adSpendOutsideWindows": {
          "type": "number"
        },
        "adSpendLate": {
          "description": "Late ad spend: counted in `adSpend`, not split by window (not re-windowed).",
          "type": "number"
        },
        "gmvInWindows": {
          "description": "Paid GMV inside highlight windows (the windows' own GMV) vs the rest.",
          "type": "number"
        },
        "gmvOutsideWindows": {
          "type": "number"
        },
        "gmvPerSpendInWindows": {
          "description": "GMV per unit of ad spend inside / outside windows; null without spend there.",
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "gmvPerSpendOutsideWindows": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "topProducts": {
          "description": "Highest GMV first, at most 10.",
          "type": "array",
          "items": {
            "$ref": "#/components/schemas/ProductSales"
          }
        }
      },
      "required": [
        "rolling",
        "concurrencyMean",
        "clickInRate",
        "watchMinutesBySource",
        "avgWatchSecBySource",
        "gmvBySource",
        "ordersBySource",
        "gmvUnattributed",
        "adSpendInWindows",
        "adSpendOutsideWindows",
        "adSpendLate",
        "gmvInWindows",
        "gmvOutsideWindows",
        "gmvPerSpendInWindows",
        "gmvPerSpendOutsideWindows",
        "topProducts"
      ],
      "additionalProperties": false
    },
    "RollingMetrics": {
      "description": "One rolling window at 10 s granularity: the current 10-s bucket of event time and the ones before it, so `windowSec` 60 covers the last 50–60 s. Late events are not in it (they are counted, not re-windowed).",
      "type": "object",
      "properties": {
        "windowSec": {
          "type": "number"
        },
        "concurrencyMean": {
          "description": "Mean and highest of the concurrency samples (one per detector sample) in the window; 0 with none.",
          "type": "number"
        },
        "concurrencyPeak": {
          "type": "number"
        },
        "entriesPerMin": {
          "description": "Counts in the window divided by its length in minutes.",
          "$ref": "#/components/schemas/PerSource"
        },
        "exitsPerMin": {
          "$ref": "#/components/schemas/PerSource"
        },
        "exposure": {
          "$ref": "#/components/schemas/PerSource"
        },
        "clickInRate": {
          "description": "entries ÷ exposure in the window, per source.",
          "$ref": "#/components/schemas/PerSourceRatio"
        },
        "gmv": {
          "type": "number"
        },
        "orders": {
          "type": "number"
        },
        "adSpend": {
          "type": "number"
        },
        "follows": {
          "type": "number"
        },
        "watchMinutes": {
          "description": "Σ concurrency × sample length, in minutes.",
          "type": "number"
        },
        "gmvPerKWatchMin": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        }
      },
      "required": [
        "windowSec",
        "concurrencyMean",
        "concurrencyPeak",
        "entriesPerMin",
        "exitsPerMin",
        "exposure",
        "clickInRate",
        "gmv",
        "orders",
        "adSpend",
        "follows",
        "watchMinutes",
        "gmvPerKWatchMin"
      ],
      "additionalProperties": false
    },
    "PerSourceRatio": {
      "description": "A ratio per source; null where its denominator is 0 (e.g. a source with no `room.exposure`).",
      "type": "object",
      "properties": {
        "follow": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "public": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "paid": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "other": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        }
      },
      "required": [
        "follow",
        "public",
        "paid",
        "other"
      ],
      "additionalProperties": false
    },
    "ProductSales": {
      "description": "A product's sales, from `order.paid` events that carry its sku.",
      "type": "object",
      "properties": {
        "sku": {
          "type": "string"
        },
        "name": {
          "description": "From the latest `product.launch` of the sku, when one was seen while it was tracked.",
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "string"
            }
          ]
        },
        "gmv": {
          "type": "number"
        },
        "orders": {
          "type": "number"
        },
        "gmvError": {
          "description": "Upper bound of GMV that may be missing from `gmv` (0 = exact): the table is a bounded Space-Saving summary.",
          "type": "number"
        }
      },
      "required": [
        "sku",
        "name",
        "gmv",
        "orders",
        "gmvError"
      ],
      "additionalProperties": false
    },
    "HighlightWindow": {
      "description": "A highlight window: a sustained rise of concurrency above its recent baseline.",
      "type": "object",
      "properties": {
        "id": {
          "description": "Stable across state changes: `${room}:${onsetTs}`.",
          "type": "string"
        },
        "room": {
          "type": "string"
        },
        "state": {
          "$ref": "#/components/schemas/WindowState"
        },
        "onsetTs": {
          "description": "Event time where the rise started (estimated, may be before detection).",
          "type": "number"
        },
        "detectedTs": {
          "description": "Event time of the first call, `building` or `rising`, whichever came first: detectedTs − onsetTs is the onset latency (what a buyer could act on).",
          "type": "number"
        },
        "confirmedTs": {
          "description": "Event time at which the window was confirmed `rising` (null while only `building`, and for a retracted one). Optional only for windows stored before it existed (they were confirmed at detectedTs).",
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "retractReason": {
          "description": "Set with state `retracted`.",
          "anyOf": [
            {
              "enum": [
                "fell-back",
                "stalled",
                "reset"
              ]
            },
            {
              "type": "null"
            }
          ]
        },
        "peakTs": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "endTs": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "updatedTs": {
          "description": "Event time of this update.",
          "type": "number"
        },
        "baseline": {
          "type": "number"
        },
        "peak": {
          "type": "number"
        },
        "liftPct": {
          "description": "(peak - baseline) / baseline * 100.",
          "type": "number"
        },
        "slopePerMin": {
          "description": "Viewers per minute, over the rise so far.",
          "type": "number"
        },
        "confidence": {
          "description": "0..1.",
          "type": "number"
        },
        "gmv": {
          "description": "GMV and paid orders inside the window so far (minor units).",
          "type": "number"
        },
        "orders": {
          "type": "number"
        },
        "adSpend": {
          "description": "Ad spend inside the window [onset, end) so far, split at the peak: the build-up (onset → peak; all of it while no peak is known) and after the peak. Optional only for windows stored before these were kept.",
          "type": "number"
        },
        "adSpendBuildUp": {
          "type": "number"
        },
        "adSpendAfterPeak": {
          "type": "number"
        },
        "adSpendApprox": {
          "description": "True when part of the split reached back past the room's bounded spend log (then it is approximate).",
          "type": "boolean"
        },
        "forecastPeak": {
          "description": "While rising: forecast peak height and event time, or null when there is not enough to say.",
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "forecastPeakTs": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        }
      },
      "required": [
        "id",
        "room",
        "state",
        "onsetTs",
        "detectedTs",
        "peakTs",
        "endTs",
        "updatedTs",
        "baseline",
        "peak",
        "liftPct",
        "slopePerMin",
        "confidence",
        "gmv",
        "orders",
        "forecastPeak",
        "forecastPeakTs"
      ],
      "additionalProperties": false
    },
    "WindowState": {
      "enum": [
        "building",
        "rising",
        "peak",
        "ended",
        "retracted"
      ]
    },
    "Suggestion": {
      "type": "object",
      "properties": {
        "id": {
          "description": "Deterministic: derived from room, kind and the event time that caused it, so replays dedupe.",
          "type": "string"
        },
        "room": {
          "type": "string"
        },
        "audience": {
          "$ref": "#/components/schemas/Audience"
        },
        "kind": {
          "$ref": "#/components/schemas/SuggestionKind"
        },
        "reasonCode": {
          "$ref": "#/components/schemas/ReasonCode"
        },
        "params": {
          "description": "Numbers the reason text uses (lift %, minutes to peak, ...), for translation.",
          "type": "object",
          "additionalProperties": {
            "anyOf": [
              {
                "type": "string"
              },
              {
                "type": "number"
              }
            ]
          }
        },
        "reason": {
          "type": "string"
        },
        "confidence": {
          "type": "number"
        },
        "createdAt": {
          "type": "number"
        },
        "expiresAt": {
          "type": "number"
        },
        "cooldownKey": {
          "type": "string"
        },
        "windowId": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "string"
            }
          ]
        },
        "forecastPeakTs": {
          "description": "boost.now only: forecast peak time and suggested boost duration.",
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "suggestedBoostMin": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "suppressed": {
          "description": "Set when the policy held it back (cooldown, quiet rule): still logged for operators, never pushed to hosts or buyers.",
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "string"
            }
          ]
        }
      },
      "required": [
        "id",
        "room",
        "audience",
        "kind",
        "reasonCode",
        "params",
        "reason",
        "confidence",
        "createdAt",
        "expiresAt",
        "cooldownKey",
        "windowId",
        "forecastPeakTs",
        "suggestedBoostMin",
        "suppressed"
      ],
      "additionalProperties": false
    },
    "Audience": {
      "enum": [
        "operator",
        "host",
        "buyer"
      ]
    },
    "SuggestionKind": {
      "enum": [
        "boost.now",
        "boost.stop",
        "cue.tease",
        "cue.launch",
        "cue.hold",
        "cue.countdown",
        "cue.retract",
        "plan.at-risk"
      ]
    },
    "ReasonCode": {
      "enum": [
        "building",
        "rising",
        "retracted",
        "near-peak",
        "peak-passed",
        "falling-after-peak",
        "conversion-collapsing",
        "planned-moment",
        "plan-flat"
      ]
    },
    "Ack": {
      "type": "object",
      "properties": {
        "suggestionId": {
          "type": "string"
        },
        "room": {
          "type": "string"
        },
        "by": {
          "type": "string"
        },
        "role": {
          "$ref": "#/components/schemas/Role"
        },
        "at": {
          "type": "number"
        }
      },
      "required": [
        "suggestionId",
        "room",
        "by",
        "role",
        "at"
      ],
      "additionalProperties": false
    },
    "Role": {
      "enum": [
        "operator",
        "host",
        "buyer",
        "ingest",
        "admin"
      ]
    },
    "PlannedMoment": {
      "description": "A planned highlight moment (DESIGN §4 Plans), as stored per room and shown in the panel and on the chart. Times are ms since epoch; money in minor units. `version` goes up by one on every edit: it is part of every scheduled job id and cue id, so an edit moves the cues and never fires the old ones.",
      "type": "object",
      "properties": {
        "id": {
          "type": "string"
        },
        "room": {
          "type": "string"
        },
        "version": {
          "type": "number"
        },
        "at": {
          "description": "When the moment is planned (the launch).",
          "type": "number"
        },
        "sku": {
          "type": "string"
        },
        "name": {
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "string"
            }
          ]
        },
        "welfare": {
          "description": "Giveaway or coupon text to hold viewers with.",
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "string"
            }
          ]
        },
        "leadMin": {
          "description": "The build-up starts this many minutes before `at`: buyer boost.now (with a budget) and the at-risk watch.",
          "type": "number"
        },
        "budget": {
          "description": "Planned ad budget for the build-up, minor units; null = no paid build-up planned.",
          "anyOf": [
            {
              "type": "null"
            },
            {
              "type": "number"
            }
          ]
        },
        "updatedAt": {
          "type": "number"
        },
        "updatedBy": {
          "type": "string"
        }
      },
      "required": [
        "id",
        "room",
        "version",
        "at",
        "sku",
        "name",
        "welfare",
        "leadMin",
        "budget",
        "updatedAt",
        "updatedBy"
      ],
      "additionalProperties": false
    }
  }
};
