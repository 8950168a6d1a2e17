"""The columns of an extraction sheet: one definition for the importer, the exporter and the templates.

Why this module exists: the CSV template's notes, the XLSX template's drop-downs and description sheet,
the import's unknown-column check and the export's column order must never disagree. Each column is
declared once here with its meaning, whether it is required, and its allowed values or format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from evidencedb.models import (
    ANALYSES,
    ASSOCIATIONS,
    CATEGORIES,
    CENTRES,
    COMPARATORS,
    DIRECTIONS,
    EFFECT_MEASURES,
    OUTCOME_CATEGORIES,
    POPULATIONS,
    STATUSES,
    Paper,
)

YES_NO = ("yes", "no")

#: File suffixes read as extraction sheets (anything else given to ``import`` is a citation file).
XLSX_SUFFIXES = (".xlsx", ".xlsm")
SHEET_SUFFIXES = (".csv", *XLSX_SUFFIXES)


@dataclass(frozen=True)
class Column:
    """One sheet column.

    Attributes:
        name: header as written in the sheet (lower case).
        meaning: what the cell holds.
        required: every row must fill it.
        allowed: the closed list of values (offered as a drop-down in XLSX templates), if any.
        fmt: the format of open values (numbers, identifiers), if it has one.
        example: the value of the template's example row.
        scope: ``study`` (repeats on each of a study's rows and must agree), ``finding``, or ``derived``
            (written by exports, recomputed and ignored on import).
    """

    name: str
    meaning: str
    required: bool = False
    allowed: tuple[str, ...] = ()
    fmt: str = ""
    example: str = ""
    scope: str = "finding"

    def describe(self) -> str:
        """Allowed values or format, as one line for notes and description sheets."""
        if self.allowed:
            return " | ".join(self.allowed)
        return self.fmt


def _s(name: str, meaning: str, **kw: object) -> Column:
    return Column(name, meaning, scope="study", **kw)  # type: ignore[arg-type]


SPECS: tuple[Column, ...] = (
    _s("study_id", "the study's label within the review", required=True, fmt="text, up to 80 characters",
       example="kadauke-2021"),
    _s("citation", "short citation of the paper; the paper's title when no title is given", required=True,
       example="Kadauke S et al. J Clin Oncol 2021"),
    _s("title", "the paper's title", example="Comparative analysis of clinical outcomes by tumor burden"),
    _s("authors", "the paper's authors", example="Kadauke S; Myers RM; Li Y"),
    _s("journal", "the journal", example="J Clin Oncol"),
    _s("year", "year of publication", required=True, fmt="whole number 1900-2200", example="2021"),
    _s("doi", "the paper's DOI (lower-cased on import; https://doi.org/ prefixes removed)",
       fmt="10.<registrant>/<suffix>", example="10.1200/jco.20.02477"),
    _s("pmid", "the paper's PubMed id", fmt="1 to 9 digits", example="33539200"),
    _s("retracted", "the paper has been retracted", allowed=YES_NO),
    _s("design", "study design exactly as the review's scoring scheme names it", required=True,
       example="single-arm phase II trial"),
    _s("centres", "single- or multi-centre", allowed=CENTRES, example="multi"),
    _s("prospective", "prospective (yes) or retrospective (no)", allowed=YES_NO, example="yes"),
    _s("phase", "trial phase", fmt="text, e.g. I, II, I/II", example="II"),
    _s("arms", "number of arms", fmt="whole number > 0", example="1"),
    _s("n_patients", "patients analysed", required=True, fmt="whole number > 0", example="70"),
    _s("n_patients_note", "how the patient count was derived, if not stated plainly"),
    _s("population", "age group", allowed=POPULATIONS, example="paediatric"),
    _s("age_range", "age range as reported", example="1-29 years"),
    _s("disease", "disease (B-ALL when blank)", example="B-ALL"),
    _s("product", "CAR-T product", example="tisagenlecleucel"),
    _s("target", "antigen target, e.g. CD19, CD22, CD19/CD22", example="CD19"),
    _s("costim", "costimulatory domain, e.g. 4-1BB, CD28", example="4-1BB"),
    _s("toxicity_grading", "CRS/ICANS grading system, e.g. ASTCT, Lee, Penn", example="ASTCT"),
    _s("registry_id", "trial registry id shared by the papers of one trial", example="NCT02435849"),
    _s("quality_tool", "quality appraisal tool, e.g. NOS, JBI", example="JBI"),
    _s("quality_rating", "quality appraisal result as reported by the tool", example="8/9"),
    Column("biomarker", "biomarker name or synonym", required=True, example="tumour burden"),
    Column("biomarker_category", "category; required only to add a biomarker the database does not know",
           allowed=CATEGORIES, example="tumour burden"),
    Column("measure", "what was measured, e.g. bone marrow blasts", example="bone marrow blasts"),
    Column("timepoint", "when, e.g. leukapheresis, pre-infusion, product, day 7, day 28, peak",
           example="pre-infusion"),
    Column("specimen", "specimen, e.g. bone marrow, peripheral blood, serum", example="bone marrow"),
    Column("assay", "assay method, e.g. flow cytometry, NGS, ELISA", example="flow cytometry"),
    Column("comparator", "threshold comparator (≥ and ≤ are accepted too); range needs upper_value",
           allowed=COMPARATORS, example=">="),
    Column("value", "threshold value, an exact decimal", fmt="number, e.g. 40, 0.5, 1E-6", example="40"),
    Column("upper_value", "upper threshold value (comparator range only)", fmt="number"),
    Column("unit", "threshold unit as written; convertible units are also stored normalised",
           fmt="e.g. %, ng/mL, pg/mL, ×10^9/L, U/L, IU/mL, or descriptive ('% of CD4+ T cells', grade)",
           example="%"),
    Column("outcome", "outcome endpoint, e.g. CR, MRD-negative CR, EFS, OS, relapse, CRS, severe CRS, ICANS",
           required=True, example="CR"),
    Column("outcome_category", "efficacy or toxicity endpoint", required=True, allowed=OUTCOME_CATEGORIES,
           example="efficacy"),
    Column("direction", "the marker's high/positive state means a better or worse outcome, more or less toxicity",
           allowed=DIRECTIONS, example="worse"),
    Column("effect_measure", "effect measure", allowed=EFFECT_MEASURES),
    Column("effect_value", "effect estimate", fmt="number"),
    Column("ci_low", "lower 95% confidence limit", fmt="number"),
    Column("ci_high", "upper 95% confidence limit", fmt="number"),
    Column("p_value", "p-value as written", fmt="text, e.g. 0.003, <0.001"),
    Column("group_results", "group results as written", example="87% vs 100%"),
    Column("analysis", "univariate or multivariate analysis", allowed=ANALYSES, example="univariate"),
    Column("association", "the finding supports an association, or shows none", required=True,
           allowed=ASSOCIATIONS, example="supports"),
    Column("quote", "the sentence of the paper that states the finding",
           example="High tumor burden consistently predicted reduced complete remission rates"),
    Column("location", "where in the paper: section, page, table or figure", example="section 3.2.1"),
    Column("citation_refs", "the review's citation number(s) for the paper", example="17"),
    Column("status", "curation status (draft when blank)", allowed=STATUSES, example="draft"),
    Column("curator", "who extracted the finding (the import's --curator when blank)", example="jdoe"),
    Column("norm_value", "threshold value in the canonical unit (exports only; recomputed on import)",
           fmt="number", scope="derived"),
    Column("norm_unit", "canonical unit of norm_value (exports only; recomputed on import)", scope="derived"),
)

REQUIRED: tuple[str, ...] = tuple(c.name for c in SPECS if c.required)
STUDY_COLUMNS: tuple[str, ...] = tuple(c.name for c in SPECS if c.scope == "study")
FINDING_COLUMNS: tuple[str, ...] = tuple(c.name for c in SPECS if c.scope == "finding")
DERIVED_COLUMNS: tuple[str, ...] = tuple(c.name for c in SPECS if c.scope == "derived")
#: Columns a curator fills (templates); exports add the derived ones.
INPUT_COLUMNS: tuple[str, ...] = STUDY_COLUMNS + FINDING_COLUMNS
COLUMNS: tuple[str, ...] = INPUT_COLUMNS + DERIVED_COLUMNS


def with_designs(designs: Sequence[str]) -> tuple[Column, ...]:
    """The column specs with ``design``'s allowed values set to a scheme's designs."""
    return tuple(replace(c, allowed=tuple(designs)) if c.name == "design" else c for c in SPECS)

#: Fields that identify a finding within a study × biomarker; the other fields are its values.
IDENTITY_FIELDS = ("outcome", "outcome_category", "measure", "timepoint", "specimen", "assay", "comparator",
                   "threshold_value", "threshold_upper", "unit", "analysis", "effect_measure")
VALUE_FIELDS = ("direction", "effect_value", "ci_low", "ci_high", "p_value", "group_results", "association",
                "quote", "location", "citation_refs", "status", "curator")
#: Sheet column of a model field, where the names differ, and the other way round for the thresholds.
COLUMN_OF = {"threshold_value": "value", "threshold_upper": "upper_value", "label": "study_id"}
FIELD_OF = {column: name for name, column in COLUMN_OF.items() if name.startswith("threshold")}
#: Study columns that belong to the paper (its fields of the same name), and the study's own fields.
PAPER_FIELDS = tuple(c for c in STUDY_COLUMNS if c in Paper.model_fields)
STUDY_FIELDS = tuple(c for c in STUDY_COLUMNS if c not in (*PAPER_FIELDS, "citation", "study_id"))

_SPEC_OF = {c.name: c for c in SPECS}


def column_spec(field: str) -> Column | None:
    """The sheet column of an input model's field (``threshold_value`` is ``value``), if it has one."""
    return _SPEC_OF.get(COLUMN_OF.get(field, field))
