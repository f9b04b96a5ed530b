"""The procedure pool: the national attributes of each procedure code (name, fee, statutory time, ...)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from demo.extracts.randomness import TAG_POOL, rng_for
from demo.extracts.registry import Registry

POPULARITY_EXPONENT = 2.5  # procedure index = floor(n * u**k): top 10 % of procedures take ~40 %

PROCEDURE_NAMES = (
    "Đăng ký khai sinh",
    "Đăng ký kết hôn",
    "Đăng ký khai tử",
    "Cấp bản sao trích lục hộ tịch",
    "Đăng ký thường trú",
    "Cấp giấy phép xây dựng nhà ở riêng lẻ",
    "Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất",
    "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
    "Cấp phiếu lý lịch tư pháp",
    "Đăng ký thành lập hộ kinh doanh",
    "Đăng ký thành lập doanh nghiệp tư nhân",
    "Cấp giấy phép lái xe",
    "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp",
    "Cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm",
    "Cấp giấy phép kinh doanh bán lẻ sản phẩm rượu",
    "Giải quyết chế độ trợ cấp thất nghiệp",
    "Cấp thẻ bảo hiểm y tế",
    "Cấp lại, đổi, điều chỉnh thông tin trên sổ bảo hiểm xã hội, thẻ bảo hiểm y tế",
    "Cấp giấy phép lao động cho người lao động nước ngoài",
    "Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh",
    "Công nhận trường đạt chuẩn quốc gia",
    "Cấp giấy phép khai thác, sử dụng nước mặt",
    "Thẩm định báo cáo đánh giá tác động môi trường",
    "Cấp giấy phép xuất bản bản tin",
    "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội",
    "Đăng ký hoạt động tín ngưỡng",
    "Cấp giấy chứng nhận đăng ký đầu tư",
    "Khai báo hải quan đối với hàng hóa xuất khẩu, nhập khẩu",
    "Đăng ký thuế lần đầu",
    "Hoàn thuế giá trị gia tăng",
    "Cấp giấy chứng nhận xuất xứ hàng hóa",
    "Cấp thị thực cho người nước ngoài",
    "Hợp pháp hóa lãnh sự giấy tờ, tài liệu",
    "Cấp giấy phép hoạt động ngân hàng",
    "Đăng ký phương tiện thủy nội địa",
    "Cấp giấy phép kinh doanh vận tải bằng xe ô tô",
)
CERTIFICATION_NAMES = (
    "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền cấp",
    "Chứng thực chữ ký trong các giấy tờ, văn bản",
    "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
)
# Fee amounts (VND); two carry cents so decimal handling is exercised.
FEE_VALUES = (
    0.0, 10000.0, 15000.0, 20000.0, 25000.0, 30000.0, 50000.0, 70000.0, 100000.0, 150000.0,
    200000.0, 300000.0, 500000.0, 1000000.0, 2000000.0, 15000.5, 27500.5,
)
DURATION_CHOICES = {  # per DURATION_UNITS index: typical statutory times
    0: (4, 8, 24, 48),  # hour
    1: (1, 3, 5, 7, 10, 15, 30),  # day
    2: (1, 3, 5, 7, 10, 15, 20, 30),  # working_day
    3: (1, 2, 3),  # month
}
DURATION_UNIT_P = (0.10, 0.15, 0.70, 0.05)
DURATION_SECONDS = (3600.0, 86400.0, 86400.0 * 7 / 5, 30 * 86400.0)  # working day ≈ 7/5 days

# Procedure pool: one national list for provinces (index = popularity rank), and one block of
# codes per ministry with public services.
PROVINCE_POOL_SIZE = 1800
PROVINCE_CORE_PROCEDURES = 120  # every province runs the most common ones
MINISTRY_BLOCK_SIZE = 400
CERTIFICATION_POOL_INDICES = (2, 7, 30, 31, 95)


@dataclass
class Pool:
    codes: pa.Array  # string
    names: list[str]
    has_fee: np.ndarray
    fee_idx: np.ndarray  # into FEE_VALUES
    paper: np.ndarray
    serves: np.ndarray
    cert: np.ndarray
    dur: np.ndarray
    dur_unit: np.ndarray
    allowed_s: np.ndarray
    ministry_block: dict[str, int]  # ministry code -> first pool index of its block


def build_pool(seed: int, registry: Registry) -> Pool:
    rng = rng_for(seed, TAG_POOL)
    ministries = sorted(c for c, r in registry.ministries.items() if r["dti_group"] == "dvc")
    n = PROVINCE_POOL_SIZE + MINISTRY_BLOCK_SIZE * len(ministries)
    # province codes: '1.00xxxx' (70 %) and '2.00xxxx', unique numbers
    nums = rng.choice(np.arange(1000, 14000), PROVINCE_POOL_SIZE, replace=False)
    prefix = np.where(rng.random(PROVINCE_POOL_SIZE) < 0.7, 1, 2)
    codes = [f"{p}.{k:06d}" for p, k in zip(prefix, nums)]
    block = {}
    for i, code in enumerate(ministries):
        block[code] = PROVINCE_POOL_SIZE + i * MINISTRY_BLOCK_SIZE
        base = 20000 + i * 2000
        p = 1 if i % 3 else 2
        codes += [f"{p}.{base + k:06d}" for k in range(MINISTRY_BLOCK_SIZE)]
    cert = np.zeros(n, bool)
    cert[list(CERTIFICATION_POOL_INDICES)] = True
    name_idx = rng.integers(0, len(PROCEDURE_NAMES), n)
    names = [PROCEDURE_NAMES[k] for k in name_idx]
    for j, i in enumerate(CERTIFICATION_POOL_INDICES):
        names[i] = CERTIFICATION_NAMES[j % len(CERTIFICATION_NAMES)]
    has_fee = rng.random(n) < 0.45
    has_fee[cert] = True
    fee_idx = np.where(has_fee, rng.integers(1, len(FEE_VALUES), n), 0)
    dur_unit = rng.choice(4, n, p=DURATION_UNIT_P).astype(np.int8)
    dur = np.empty(n, np.float64)
    for u, choices in DURATION_CHOICES.items():
        sel = dur_unit == u
        dur[sel] = rng.choice(np.array(choices, float), sel.sum())
    dur_unit[cert] = 0  # certification: within hours
    dur[cert] = 8
    allowed = dur * np.array(DURATION_SECONDS)[dur_unit]
    return Pool(
        codes=pa.array(codes, pa.string()),
        names=names,
        has_fee=has_fee,
        fee_idx=fee_idx.astype(np.int16),
        paper=rng.random(n) < 0.55,
        serves=(rng.random(n) < 0.70) | cert,
        cert=cert,
        dur=dur,
        dur_unit=dur_unit,
        allowed_s=allowed,
        ministry_block=block,
    )
