"""Checks across the whole knowledge base: what a maintainer must fix before an entry is served."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from knowledge import question_sets, readability
from knowledge.boundaries import EMPTY, TrainingSet, combine, load_boundaries, load_topic_questions
from knowledge.loader import LoadedFile, load_all, load_catalogue
from knowledge.models import Catalogue, Entry
from knowledge.problems import Problem, error, warning
from knowledge.tenants import Tenant, load_tenants
from knowledge.text import as_of_dates

STALE_AFTER = timedelta(days=365)

# Hosts of public authorities and bodies acting for them (suffix match). Extend with a reason.
OFFICIAL_HOSTS = (
    ".bund.de",
    "bund.de",
    "bamf.de",
    "arbeitsagentur.de",
    "anerkennung-in-deutschland.de",
    "make-it-in-germany.com",
    "bmas.de",
    "bmfsfj.de",
    "bmbf.de",
    "bmi.bund.de",
    "bmj.de",
    "bmg.bund.de",
    "bundesregierung.de",
    "bundesgesundheitsministerium.de",
    "gesetze-im-internet.de",
    "116117.de",
    "integrationsbeauftragte.de",
    "antidiskriminierungsstelle.de",
    "hilfetelefon.de",
    "bzst.de",
    "bafin.de",
    "verbraucherzentrale.de",
    "bibb.de",
    "kmk.org",
    "jobcenter-ge.de",
    "bzga.de",
    "infektionsschutz.de",
    "kindergesundheit-info.de",
    "elternsein.info",
    "fruehe-hilfen.de",
    "germany4ukraine.de",
    "handbookgermany.de",
    "zoll.de",
    "deutsche-rentenversicherung.de",
    "nummergegenkummer.de",
    "polizei.de",
    "polizei-beratung.de",
    "netzwerk-iq.de",
    "vhs-lernportal.de",
    "dw.com",
    "goethe.de",
    "jmd-portal.de",
    "mbeon.de",
    "faire-mobilitaet.de",
    "faire-integration.de",
    "bafza.de",
    "bundesanzeiger.de",
    "europa.eu",
    "eur-lex.europa.eu",
    "anabin.kmk.org",
    "berlin.de",
    "bayern.de",
    "hamburg.de",
    "bremen.de",
    "nrw.de",
    "niedersachsen.de",
    "hessen.de",
    "sachsen.de",
    "thueringen.de",
    "brandenburg.de",
    "saarland.de",
    "schleswig-holstein.de",
    "rlp.de",
    "baden-wuerttemberg.de",
    "service-bw.de",
    "sachsen-anhalt.de",
    "mv-regierung.de",
    "regierung-mv.de",
    "jugend-staerken.de",
    "jugendmigrationsdienste.de",
    "eu-gleichbehandlungsstelle.de",
    "ihk.de",
    "hwk.de",
    "rak-hamburg.de",
    "fruehe-chancen.de",
    "recht-auf-ganztag.de",
    "sozialplattform.de",
    "in-form.de",
    "schulamt-bw.de",
    "gkv-spitzenverband.de",
    "bq-portal.de",
    "minijob-zentrale.de",
    "muenchen.de",
    "stadt-koeln.de",
    "frankfurt.de",
    "stuttgart.de",
    "leipzig.de",
    "dresden.de",
    "hannover.de",
    "duesseldorf.de",
    "nuernberg.de",
    "verwaltung.bund.de",
    # Federal bodies and public-law services cited by the v2 topics (December 2026).
    "auswaertiges-amt.de",  # Federal Foreign Office
    "diplo.de",  # German missions abroad
    "bundesfinanzministerium.de",  # Federal Ministry of Finance
    "elster.de",  # the tax administration's online portal
    "rundfunkbeitrag.de",  # the state broadcasters' public-law fee service
    "familienportal.de",  # the federal family ministry's portal
    "regenbogenportal.de",  # the federal family ministry's portal on sexual and gender diversity
    "bpb.de",  # Federal Agency for Civic Education
    "umweltbundesamt.de",  # Federal Environment Agency
    "bundestag.de",  # the federal parliament
    "bundespolizei.de",  # Federal Police
    "fruehehilfen.de",  # National Centre for Early Help (federal)
    "geburt-vertraulich.de",  # the federal family ministry's portal on confidential birth
    "mainz.de",
    "essen.de",
    "gelsenkirchen.de",
)


def is_official(host: str) -> bool:
    return any(host == h.lstrip(".") or host.endswith("." + h.lstrip(".")) for h in OFFICIAL_HOSTS)


@dataclass
class Report:
    entries: list[Entry]
    problems: list[Problem]
    coverage: dict[str, dict[str, bool]]
    tenants: dict[str, Tenant] = field(default_factory=dict)
    files: list[LoadedFile] = field(default_factory=list)
    training: TrainingSet = EMPTY  # topic questions and boundaries (``knowledge.boundaries``)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def missing(self) -> list[tuple[str, str]]:
        return [(t, loc) for t, row in self.coverage.items() for loc, ok in row.items() if not ok]


def _entry_problems(
    loaded: LoadedFile, catalogue: Catalogue, tenants: dict[str, Tenant], known_ids: set[str], today: date
) -> list[Problem]:
    entry = loaded.entry
    assert entry is not None
    path = str(loaded.path.relative_to(loaded.path.parents[3]))
    found: list[Problem] = []
    if catalogue.topic_of(entry.id) is None:
        found.append(error(path, f"unknown id {entry.id!r}: not a catalogue topic or a child of one", 1, "unknown-id"))
    for ref in entry.related:
        if ref not in known_ids and ref not in catalogue.topics:
            found.append(error(path, f"related id {ref!r} does not exist", 1, "related"))
    if entry.is_local and entry.region not in tenants:
        found.append(error(path, f"region {entry.region!r} is neither DE, a state nor a known tenant", 1, "region"))
    if not any(is_official(source.host) for source in entry.sources):
        hosts = ", ".join(sorted({s.host for s in entry.sources}))
        found.append(error(path, f"no official source (hosts: {hosts}); see OFFICIAL_HOSTS", 1, "official-source"))
    if entry.checked > today:
        found.append(error(path, f"checked date {entry.checked} is in the future", 1, "checked"))
    elif today - entry.checked > STALE_AFTER:
        found.append(warning(path, f"facts last checked {entry.checked}: older than 12 months", 1, "stale"))
    if entry.review_by is not None and entry.review_by < today:
        found.append(warning(path, f"review_by {entry.review_by} has passed: re-check the facts", 1, "review-due"))
    for stated in as_of_dates(entry.body, entry.locale):
        if stated < entry.checked.replace(day=1):
            shown = stated.strftime("%Y-%m")
            message = f"the text says 'as of' {shown}, older than checked {entry.checked}: update or re-date it"
            found.append(warning(path, message, 1, "as-of"))
    for finding in readability.check(entry.body, entry.locale):
        found.append(warning(path, finding.message, loaded.body_line + finding.line_offset, "simple-language"))
    return found


def coverage(entries: list[Entry], catalogue: Catalogue) -> dict[str, dict[str, bool]]:
    """Topic x locale: does a served, non-tenant entry answer it?"""
    table = {topic: {loc: False for loc in catalogue.locales} for topic in catalogue.topics}
    for entry in entries:
        topic = catalogue.topic_of(entry.id)
        if topic and not entry.is_local and entry.locale in table[topic]:
            table[topic][entry.locale] = True
    return table


def validate(
    files: list[LoadedFile], catalogue: Catalogue, tenants: dict[str, Tenant], today: date | None = None
) -> Report:
    today = today or date.today()
    known_ids = {f.entry.id for f in files if f.entry}
    problems: list[Problem] = []
    served: list[Entry] = []
    for loaded in files:
        own = list(loaded.problems)
        if loaded.entry is not None:
            own += _entry_problems(loaded, catalogue, tenants, known_ids, today)
        problems += own
        if loaded.entry is not None and not any(p.severity == "error" for p in own):
            served.append(loaded.entry)
    table = coverage(served, catalogue)
    for topic, row in table.items():
        missing = [loc for loc, ok in row.items() if not ok]
        if missing:
            problems.append(
                warning("knowledge/catalogue.yaml", f"{topic}: missing in {', '.join(missing)}", None, "coverage")
            )
    return Report(entries=served, problems=problems, coverage=table, tenants=tenants, files=files)


def validate_dir(
    knowledge_dir: Path,
    today: date | None = None,
    development_dir: Path | None = None,
    cache_dir: Path | None = None,
) -> Report:
    """Load and check ``knowledge/`` (entries, catalogue, tenants, boundaries). The labelled questions also
    take in the learned question sets of ``development_dir`` (default: ``eval/`` beside ``knowledge/``).
    ``cache_dir`` keeps the parsed data of the large question files between runs (``knowledge.yaml_files``)."""
    catalogue = load_catalogue(knowledge_dir / "catalogue.yaml")
    tenants, tenant_problems = load_tenants(knowledge_dir / "tenants")
    boundaries, boundary_problems = load_boundaries(knowledge_dir / "boundaries", cache_dir)
    questions, question_problems = load_topic_questions(knowledge_dir / "questions", set(catalogue.topics), cache_dir)
    development, development_problems = question_sets.load_learned(
        development_dir or question_sets.directory_beside(knowledge_dir), set(catalogue.topics), cache_dir
    )
    report = validate(load_all(knowledge_dir / "entries", knowledge_dir.parent), catalogue, tenants, today)
    report.problems[:0] = tenant_problems + boundary_problems + question_problems + development_problems
    report.training = combine(questions, boundaries, development)
    return report
