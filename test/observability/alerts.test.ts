import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createSwitchMetrics } from '../../src/observability/metrics.js';
import { Mti, ResponseCode } from '../../src/iso8583/vocabulary/index.js';

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
}

const RULES_FILE = new URL('../../ops/prometheus/jht-switch.rules.yaml', import.meta.url);

/** The rule file's own syntax is promtool's to check (integration suite); this checks it fits the switch. */
describe('observability: the Prometheus rules match the metrics the switch exports', () => {
  const rules = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

  it('every jht_ series a rule reads is exported, with the labels it names', async () => {
    const metrics = createSwitchMetrics({ defaultMetrics: false });
    metrics.transaction('demo', Mti.FinancialRequest, ResponseCode.NoParticipantLinked, 0.001);
    const exported = await metrics.registry.getMetricsAsJSON();
    const names = new Set(exported.map((m) => m.name));
    for (const rule of rules) {
      for (const [, name, labels] of rule.expr.matchAll(/(?<![:\w])(jht_[a-z_]+)(?:\{([^}]*)\})?/g)) {
        expect(names, `${rule.record ?? rule.alert}: ${name}`).to.include(name!);
        const known = exported.find((m) => m.name === name)!.values.flatMap((v) => Object.keys(v.labels));
        for (const [, label] of (labels ?? '').matchAll(/(\w+)\s*=~?/g)) expect(known, `${name} label`).to.include(label!);
      }
    }
  });

  it('the enumeration alert reads the share of 14 among the inquiry MTIs, and pages', () => {
    const ratio = rules.find((r) => r.record === 'partner:jht_inquiries_not_linked:ratio_rate10m');
    expect(ratio?.expr).to.include(`response_code="${ResponseCode.NoParticipantLinked}"`);
    const mtis = /mti=~"([^"]+)"/.exec(ratio!.expr)![1]!.split('|').sort();
    expect(mtis).to.deep.equal([Mti.AuthorizationRequest, Mti.AuthorizationRepeat, Mti.FinancialRequest, Mti.FinancialRepeat].sort());
    const alert = rules.find((r) => r.alert === 'JhtCardEnumerationSuspected');
    expect(alert?.expr).to.include('partner:jht_inquiries_not_linked:ratio_rate10m > 0.5');
    expect(alert?.for).to.equal('15m');
  });
});
