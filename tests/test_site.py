"""`make site`: a static HTML site built from a run's reports (here the session's QUICK run of 00_tour)."""
import pytest

from analysis_lib import reproduce, site

QUICK_NOTEBOOKS = ("00_tour",)


@pytest.mark.notebook
def test_site_builds_from_a_quick_run_of_the_tour(quick_run, tmp_path):
    res = quick_run("00_tour")
    reports = tmp_path / "reports"
    reproduce.write_reports([res], reports, "quick", 0, git_commit="abc1234")
    (reports / "00_tour.html").write_bytes(open(res.html_path, "rb").read())
    index = site.build_site("quick", reports=reports, out=tmp_path / "site")
    text = index.read_text(encoding="utf-8")
    assert '<a href="00_tour.html">00_tour</a>' in text
    assert "Paper claims: coverage in this run" in text and "✓ reproduced" in text  # the coverage matrix
    page = (tmp_path / "site" / "00_tour.html").read_text(encoding="utf-8")
    assert "data:image/png;base64" in page and "tour.circular_law.spectral_radius" in page  # figures and claims inline
    assert (tmp_path / "site" / "scorecard.html").exists() and (tmp_path / "site" / "reproduction.html").exists()
    # the gallery's images are copied beside the pages
    for entry in reproduce.gallery_entries():
        assert (tmp_path / "site" / entry["figure"]).exists()


def test_site_without_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `make reproduce`"):
        site.build_site("quick", reports=tmp_path / "none", out=tmp_path / "site")
    with pytest.raises(ValueError, match="mode must be one of"):
        site.build_site("fast", reports=tmp_path, out=tmp_path / "site")
