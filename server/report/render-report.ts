/** One report, three forms: JSON for programs, CSV for spreadsheets, a self-contained HTML page for people. */
import type { RoomReport } from '../../core/report.ts';
import { renderReportCsv } from './render-csv.ts';
import { renderReportHtml } from './render-html.ts';

export const REPORT_FORMATS = ['json', 'csv', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderedReport {
  body: string;
  contentType: string;
  /** `crest-report-<room>-<yyyymmdd-hhmm UTC of generation>.<ext>`; room ids are [A-Za-z0-9_.-] only. */
  filename: string;
}

export function renderReport(report: RoomReport, format: ReportFormat, opts: { timeZone?: string } = {}): RenderedReport {
  const stamp = new Date(report.generatedAt).toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  const filename = `crest-report-${report.room}-${stamp}.${format}`;
  switch (format) {
    case 'json':
      return { body: JSON.stringify(report, null, 2) + '\n', contentType: 'application/json; charset=utf-8', filename };
    case 'csv':
      return { body: renderReportCsv(report, opts), contentType: 'text/csv; charset=utf-8', filename };
    case 'html':
      return { body: renderReportHtml(report, opts), contentType: 'text/html; charset=utf-8', filename };
  }
}
