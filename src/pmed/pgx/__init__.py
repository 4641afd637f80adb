"""Pharmacogenomics: VCF → diplotypes → phenotypes → CPIC drug recommendations."""

from pmed.pgx.recommender import DrugInfo, DrugRecommendation, drugs, recommend, to_findings

__all__ = ["DrugInfo", "DrugRecommendation", "drugs", "recommend", "to_findings"]
