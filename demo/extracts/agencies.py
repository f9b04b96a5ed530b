"""The demo's handling agencies: the suffix table of '<unit>.<suffix>' agency codes, their
Vietnamese names, how many of each a unit has in a month, and the 2025 reorganisation.

A province has its People's Committee office (UBND), 25 departments (S01..S25) and communes;
before 2025-07 also districts (H01..H30, 5-30 by population; the district level was abolished on
2025-07-01) and the old communes (X0001..X0400, 60-400 by population, about 160 on average:
~10,000 for 63 provinces); from 2025-07 the communes formed by the merger, new units with new
codes (XM001..XM250, 40-250, about 95 on average: ~3,200 for 34 provinces). A ministry has its
office (BO), 12 departments (CUC01..CUC12) and 63 branch offices (ND<old province code>).

A dossier carried over from June 2025 into July keeps its place: a district's or an old
commune's open dossier passes to one of the new communes of its (new) province (a crude,
deterministic crosswalk: the j-th old agency to new commune j mod n). Names hold no comma or
quote (the demo writes CSV unquoted)."""

from __future__ import annotations

import numpy as np

N_DEPARTMENTS, N_COMMUNES_MAX, N_NEW_COMMUNES_MAX, N_DISTRICTS_MAX = 25, 400, 250, 30
N_MINISTRY_HQ, N_BRANCHES = 13, 63

AGENCY_SUFFIXES = (
    ["UBND"]
    + [f"S{i:02d}" for i in range(1, N_DEPARTMENTS + 1)]  # departments (sở, ban, ngành)
    + [f"X{i:04d}" for i in range(1, N_COMMUNES_MAX + 1)]  # communes before 2025-07
    + [f"XM{i:03d}" for i in range(1, N_NEW_COMMUNES_MAX + 1)]  # communes from 2025-07 (merged)
    + [f"H{i:02d}" for i in range(1, N_DISTRICTS_MAX + 1)]  # districts before 2025-07
    + ["BO"]
    + [f"CUC{i:02d}" for i in range(1, N_MINISTRY_HQ)]  # ministry head office and departments (cục)
)
SUFFIX_UBND = 0
SUFFIX_DEPT = SUFFIX_UBND + 1
SUFFIX_COMMUNE = SUFFIX_DEPT + N_DEPARTMENTS
SUFFIX_NEW_COMMUNE = SUFFIX_COMMUNE + N_COMMUNES_MAX
SUFFIX_DISTRICT = SUFFIX_NEW_COMMUNE + N_NEW_COMMUNES_MAX
SUFFIX_BO = SUFFIX_DISTRICT + N_DISTRICTS_MAX
SUFFIX_BRANCH = SUFFIX_BO + N_MINISTRY_HQ  # ND<code> follows, one per old province (plans.py)

# indices into the extract contract's AGENCY_LEVELS
LEVEL_MINISTRY, LEVEL_BRANCH, LEVEL_PROVINCE, LEVEL_DEPARTMENT, LEVEL_COMMUNE, LEVEL_DISTRICT = range(6)

DEPARTMENT_NAMES = (
    "Sở Tư pháp", "Sở Tài chính", "Sở Nội vụ", "Sở Y tế", "Sở Giáo dục và Đào tạo", "Sở Xây dựng",
    "Sở Công Thương", "Sở Nông nghiệp và Môi trường", "Sở Khoa học và Công nghệ",
    "Sở Văn hóa Thể thao và Du lịch", "Sở Ngoại vụ", "Sở Dân tộc và Tôn giáo", "Thanh tra tỉnh",
    "Văn phòng UBND tỉnh", "Ban Quản lý các khu công nghiệp", "Công an tỉnh", "Sở Du lịch",
    "Sở Lao động Thương binh và Xã hội", "Sở Giao thông vận tải", "Sở Tài nguyên và Môi trường",
    "Sở Kế hoạch và Đầu tư", "Sở Thông tin và Truyền thông", "Ban Quản lý khu kinh tế",
    "Quỹ Đầu tư phát triển tỉnh", "Trung tâm Phục vụ hành chính công tỉnh",
)
MINISTRY_DEPARTMENT_NAMES = (
    "Cục Kế hoạch Tài chính", "Cục Pháp chế", "Cục Tổ chức cán bộ", "Cục Chuyển đổi số",
    "Cục Quản lý chất lượng", "Cục Kiểm tra", "Cục Hợp tác quốc tế", "Cục Quản lý thị trường",
    "Cục Đăng ký", "Cục Thống kê", "Cục Cấp phép", "Cục Giám sát",
)
_SYLLABLES = (
    "An", "Bình", "Hòa", "Phú", "Tân", "Thạnh", "Long", "Minh", "Hưng", "Phước", "Thuận", "Đông",
    "Tây", "Nam", "Bắc", "Trung", "Sơn", "Thủy", "Lộc", "Hải", "Quang", "Vĩnh", "Mỹ", "Hiệp",
    "Thái", "Thịnh", "Xuân", "Đức", "Lợi", "Khánh",
)
_N_PLACE_NAMES = len(_SYLLABLES) ** 2  # 900; the step below is coprime to it


def place_name(unit_code: str, j: int, salt: int) -> str:
    """A Vietnamese-looking two-syllable place name, distinct for j < 900 within a unit."""
    k = (j * 37 + sum(map(ord, unit_code)) * 11 + salt) % _N_PLACE_NAMES
    a, b = divmod(k, len(_SYLLABLES))
    return f"{_SYLLABLES[a]} {_SYLLABLES[b]}" if a != b else f"{_SYLLABLES[a]} {_SYLLABLES[(b + 7) % len(_SYLLABLES)]}"


def unit_agency_names(code: str, unit_name: str, branch_provinces: list[str]) -> list[str]:
    """The name of every suffix of AGENCY_SUFFIXES, then the branches (ND<code>), for one unit
    named `unit_name` ('Tỉnh An Giang', 'Thành phố Hà Nội', 'Bộ Tài chính'); `branch_provinces`:
    the short names of the provinces of the branch offices."""
    names = ["UBND " + unit_name[:1].lower() + unit_name[1:]]
    names += list(DEPARTMENT_NAMES)
    for j in range(N_COMMUNES_MAX):  # before 2025-07: wards, townships, communes
        kind = "Phường" if j % 8 == 0 else "Thị trấn" if j % 13 == 1 else "Xã"
        names.append(f"{kind} {place_name(code, j, 0)}")
    for j in range(N_NEW_COMMUNES_MAX):  # the merged communes and wards
        names.append(f"{'Phường' if j % 6 == 0 else 'Xã'} {place_name(code, j, 401)}")
    for j in range(N_DISTRICTS_MAX):
        kind = "Thành phố" if j == 0 else "Thị xã" if j == 1 else "Huyện"
        names.append(f"{kind} {place_name(code, j, 613)}")
    names.append("Văn phòng " + unit_name)
    names += [f"{n} thuộc {unit_name}" for n in MINISTRY_DEPARTMENT_NAMES]
    names += [f"Chi nhánh {unit_name} tại {p}" for p in branch_provinces]
    # the CSV is written unquoted: 'Bộ Văn hóa, Thể thao và Du lịch' -> 'Bộ Văn hóa Thể thao và Du lịch'
    return [n.replace(",", "").replace('"', "") for n in names]


def agency_counts(weights: np.ndarray, new_era: bool) -> tuple[np.ndarray, np.ndarray]:
    """(communes, districts) per unit from its volume weight (population in thousands)."""
    if new_era:
        return np.clip((weights / 30).astype(np.int64), 40, N_NEW_COMMUNES_MAX), np.zeros(len(weights), np.int64)
    return (np.clip((weights / 9).astype(np.int64), 60, N_COMMUNES_MAX),
            np.clip((weights / 140).astype(np.int64), 5, N_DISTRICTS_MAX))


def carry_across_reorganisation(d: dict, n_communes: np.ndarray) -> None:
    """Dossiers carried into the first month of the two-level local government: a district's or
    an old commune's dossier passes to a new commune of its new province (d['unit'] already
    linked to the new plan)."""
    old = (d["level"] == LEVEL_DISTRICT) | ((d["level"] == LEVEL_COMMUNE) & (d["suffix"] < SUFFIX_NEW_COMMUNE))
    if not old.any():
        return
    j = np.where(d["level"] == LEVEL_DISTRICT, d["suffix"] - SUFFIX_DISTRICT, d["suffix"] - SUFFIX_COMMUNE)
    new_suffix = SUFFIX_NEW_COMMUNE + j % n_communes[d["unit"]]
    d["suffix"] = np.where(old, new_suffix, d["suffix"])
    d["level"] = np.where(old, LEVEL_COMMUNE, d["level"]).astype(np.int8)
