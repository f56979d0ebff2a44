"""Every CPU name a team owns or buys resolves to its generation and expected EVC mode (or fails clearly).

The table below lists real product names by family, with the vendor naming each family follows; the
expected generation and mode are written out here (not read from the tables) so that a wrong rule fails.
Sources (also cited per rule in data/cpu_generations.json): Intel Core numbering (INTEL-CORE-NAMING,
NOTEBOOKCHECK-CORE, INTEL-CORE-ULTRA), Xeon Scalable digits (LAOTSAO-NAMING, MSI-NAMING), Xeon 6
(HITECH-XEON6, TECHWARRANT-XEON6), Xeon W (XEON-W, TECHREPORT-SKLW, SMBOM-CLX, ICELAKE-WIKI), Xeon D
(INTEL-XEON-D2100, NEXTPLATFORM-XEOND), EPYC last digit (SPORTSGAMING-EPYC, ALLINFO-EPYC, EXTREMETECH-4004,
KAD8-9005), Ryzen (RYZEN-GENS, AMD-MOBILE-NAMING, APPUALS-7000M), Threadripper (HOTHW-TR5000).
"""

from __future__ import annotations

import json

import pytest

from evckit.catalog import Catalog
from evckit.cli import main
from evckit.errors import UnknownCpuError
from evckit.assess import assess
from evckit.profiles import profile_from_name
from evckit.identify import AmbiguousCpuError

MODE = {
    "merom": "intel-merom", "penryn": "intel-penryn", "nehalem": "intel-nehalem", "westmere": "intel-westmere",
    "sandybridge": "intel-sandybridge", "ivybridge": "intel-ivybridge", "haswell": "intel-haswell",
    "broadwell": "intel-broadwell", "skylake-client": "intel-broadwell", "skylake-sp": "intel-skylake",
    "cascadelake": "intel-cascadelake", "cooperlake": "intel-cascadelake", "icelake-sp": "intel-icelake",
    "icelake-client": "intel-broadwell", "sapphirerapids": "intel-sapphirerapids",
    "emeraldrapids": "intel-sapphirerapids", "graniterapids": "intel-graniterapids", "sierraforest": "intel-broadwell",
    "alderlake": "intel-broadwell", "meteorlake": "intel-broadwell", "lunarlake": "intel-broadwell",
    "arrowlake": "intel-broadwell", "silvermont": "intel-westmere", "goldmont": "intel-westmere",
    "tremont": "intel-westmere", "k8-early": None, "k8-rev-e": "amd-rev-e", "k8-rev-f": "amd-rev-f",
    "greyhound": "amd-greyhound", "bulldozer": "amd-bulldozer", "piledriver": "amd-piledriver", "zen": "amd-zen",
    "zen2": "amd-zen2", "zen3": "amd-zen3", "zen4": "amd-zen4", "zen5": "amd-zen5", "hygon-dhyana": None,
}

# (generation, names) - every name a real product of that generation.
GROUPS: list[tuple[str, str]] = [
    # Xeon E3/E5/E7 (vN = generation)
    ("sandybridge", "E5-2670|E5-2620|Intel(R) Xeon(R) CPU E5-2650 0 @ 2.00GHz|E3-1220|E5-4650"),
    ("ivybridge", "E5-2697 v2|E5-2630 v2|E7-4890 v2|E3-1270 v2"),
    ("haswell", "E5-2660 v3|E5-2699 v3|E7-8880 v3|E3-1231 v3"),
    ("broadwell", "E5-2680 v4|E5-2699 v4|E5-2630 v4|E7-8894 v4|E3-1285L v4"),
    ("skylake-client", "E3-1240 v5|E3-1275 v6"),
    # Xeon Scalable (second digit = generation)
    ("skylake-sp", "Xeon Gold 6130|Xeon Platinum 8180|Xeon Silver 4114|Xeon Bronze 3106|Xeon Gold 5118"),
    ("cascadelake", "Xeon Gold 6248R|Xeon Platinum 8280L|Xeon Silver 4214R|Xeon Gold 5220|Xeon Bronze 3204"),
    ("icelake-sp", "Xeon Gold 6338|Xeon Platinum 8380|Xeon Silver 4314|Xeon Gold 5318Y|Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz"),
    ("cooperlake", "Xeon Platinum 8380H|Xeon Platinum 8376HL|Xeon Gold 6348H"),
    ("sapphirerapids", "Xeon Gold 6430|Xeon Platinum 8480+|Xeon Silver 4410Y|Xeon Gold 5415+|Xeon Platinum 8468"),
    ("emeraldrapids", "Xeon Gold 6548Y+|Xeon Platinum 8592+|Xeon Silver 4514Y|Xeon Gold 5520+|Xeon Platinum 8580"),
    # Xeon 6 (P = Granite Rapids, E = Sierra Forest)
    ("graniterapids", "Xeon 6980P|Xeon 6972P|Xeon 6952P|Xeon 6787P|Xeon 6767P|Xeon 6760P|Xeon 6747P|Xeon 6 6740P|"
                      "Xeon 6737P|Xeon 6730P|Xeon 6530P|Xeon 6520P|Xeon 6517P|Xeon 6507P|Intel(R) Xeon(R) 6788P"),
    ("sierraforest", "Xeon 6780E|Xeon 6766E|Xeon 6756E|Xeon 6740E|Xeon 6710E"),
    # Older Xeons
    ("westmere", "X5670|X5690|E5645|L5640|E7-4870|E7-8870|W3680"),
    ("nehalem", "X5570|E5520|L5520|W3520|X7560|E7540|E6510"),
    ("penryn", "X5460|E5430|E5450|L5420|X7460|X3360"),
    ("merom", "X5355|E5345|Xeon 5160|Xeon 5140|X3220|Xeon 3070"),
    # Xeon W
    ("skylake-sp", "Xeon W-2123|Xeon W-2125|Xeon W-2133|Xeon W-2135|Intel(R) Xeon(R) W-2145 CPU @ 3.70GHz|"
                   "Xeon W-2155|Xeon W-2175|Xeon W-2195|Xeon W-3175X"),
    ("cascadelake", "Xeon W-2223|Xeon W-2225|Xeon W-2235|Xeon W-2245|Xeon W-2255|Xeon W-2265|Xeon W-2275|"
                    "Xeon W-2295|Xeon W-3223|Xeon W-3235|Xeon W-3245|Xeon W-3265M|Xeon W-3275M"),
    ("icelake-sp", "Xeon W-3323|Xeon W-3335|Xeon W-3345|Xeon W-3365|Xeon W-3375"),
    ("sapphirerapids", "Xeon w3-2423|Xeon w5-2455X|Xeon w7-2495X|Xeon w5-3425|Xeon w7-3465X|Xeon w9-3495X|"
                       "Xeon w3-2525|Xeon w5-2545|Xeon w7-2595X|Xeon w5-3535X|Xeon w7-3565X|Xeon w9-3595X"),
    ("skylake-client", "Xeon W-1250|Xeon W-1270|Xeon W-1290P|Xeon W-1290T|Xeon W-10855M|Xeon W-10885M"),
    ("icelake-client", "Xeon W-1350|Xeon W-1370P|Xeon W-1390P|Xeon W-11855M|Xeon W-11955M"),
    # Xeon D
    ("broadwell", "Xeon D-1518|Xeon D-1521|Xeon D-1537|Xeon D-1540|Intel(R) Xeon(R) CPU D-1541 @ 2.10GHz|"
                  "Xeon D-1548|Xeon D-1557|Xeon D-1567|Xeon D-1581|Xeon D-1587|Xeon D-1602|Xeon D-1622|"
                  "Xeon D-1627|Xeon D-1637|Xeon D-1653N"),
    ("skylake-sp", "Xeon D-2123IT|Xeon D-2141I|Xeon D-2146NT|Xeon D-2161I|Xeon D-2183IT|Xeon D-2191"),
    ("icelake-sp", "Xeon D-1712TR|Xeon D-1718T|Xeon D-1726|Xeon D-1736NT|Xeon D-1746TER|Xeon D-2712T|"
                   "Xeon D-2733NT|Xeon D-2752NT|Xeon D-2776NT|Xeon D-2796NT"),
    # Xeon E-2xxx
    ("skylake-client", "Xeon E-2124|Xeon E-2124G|Xeon E-2136|Xeon E-2146G|Xeon E-2176G|Xeon E-2186G|Xeon E-2176M|"
                       "Xeon E-2224|Xeon E-2234|Xeon E-2236|Xeon E-2246G|Xeon E-2278G|Xeon E-2288G|Xeon E-2276M"),
    ("icelake-client", "Xeon E-2314|Xeon E-2324G|Xeon E-2334|Xeon E-2336|Xeon E-2356G|Xeon E-2374G|Xeon E-2378G|"
                       "Xeon E-2386G|Xeon E-2388G"),
    ("alderlake", "Xeon E-2414|Xeon E-2434|Xeon E-2436|Xeon E-2456|Xeon E-2468|Xeon E-2478|Xeon E-2488"),
    # Xeon Max
    ("sapphirerapids", "Xeon Max 9460|Xeon Max 9462|Xeon Max 9468|Xeon Max 9470|Intel(R) Xeon(R) CPU Max 9480"),
    # Atom C / P
    ("silvermont", "Atom C2358|Atom C2550|Atom C2750|Intel(R) Atom(TM) CPU C2758 @ 2.40GHz"),
    ("goldmont", "Atom C3338|Atom C3558|Atom C3758|Atom C3858|Atom C3958"),
    ("tremont", "Intel Atom(R) P5362 processor"),
    # Core i, 1st generation
    ("nehalem", "Core i7-920|Core i7-930|Core i7-950|Core i7-960|Core i7-975|Core i7-860|Core i7-870|Core i5-750|"
                "Core i5-760|Core i7-720QM|Core i7-820QM"),
    ("westmere", "Core i7-980X|Core i7-990X|Core i7-620M|Core i7-640M|Intel(R) Core(TM) i5 CPU 650 @ 3.20GHz|"
                 "Core i5-661|Core i5-520M|Core i5-540M|Core i3-530|Core i3-540|Core i3-550|Core i3-330M|Core i3-370M"),
    ("sandybridge", "Core i7-2600K|Core i7-2600|Core i5-2500K|Core i5-2400|Core i3-2100|Core i7-2620M|"
                    "Core i5-2520M|Core i7-3930K|Core i7-3960X|Core i7-3820"),
    ("ivybridge", "Core i7-3770K|Intel(R) Core(TM) i7-3770 CPU @ 3.40GHz|Core i5-3570K|Core i5-3470|Core i3-3220|"
                  "Core i7-3520M|Core i5-3320M|Intel(R) Core(TM) i7-4930K CPU @ 3.40GHz|Core i7-4960X|Core i7-4820K"),
    ("haswell", "Core i7-4770K|Core i7-4790K|Core i5-4590|Core i5-4670K|Core i3-4130|Core i7-4600U|Core i5-4200U|"
                "Core i7-4710HQ|Core i7-5960X|Core i7-5930K|Core i7-5820K"),
    ("broadwell", "Core i7-5775C|Core i5-5675C|Core i7-5500U|Core i5-5200U|Core i3-5005U|Core i7-6950X|"
                  "Core i7-6900K|Core i7-6850K|Core i7-6800K"),
    ("skylake-client", "Core i7-6700K|Intel(R) Core(TM) i5-6600 CPU @ 3.30GHz|Core i5-6500|Core i3-6100|Core i7-6500U|"
                       "Core i7-7700K|Core i5-7600K|Core i5-7400|Core i7-7500U|Core i7-7740X|Core i5-7640X|"
                       "Core i7-8700K|Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz|Core i5-8400|Core i3-8100|Core i7-8550U|"
                       "Core i7-8750H|Core i9-9900K|Core i7-9700K|Core i5-9600K|Core i5-9400F|Core i9-9880H|"
                       "Core i9-10900K|Core i7-10700K|Core i5-10400|Core i3-10100|Core i7-10510U|Core i7-10750H|"
                       "Core i9-10980HK"),
    ("skylake-sp", "Core i7-7800X|Core i7-7820X|Core i9-7900X|Core i9-7920X|Core i9-7940X|Core i9-7960X|"
                   "Core i9-7980XE|Core i7-9800X|Core i9-9820X|Core i9-9900X|Core i9-9920X|Core i9-9940X|"
                   "Core i9-9960X|Core i9-9980XE"),
    ("cascadelake", "Core i9-10900X|Core i9-10920X|Core i9-10940X|Core i9-10980XE"),
    ("icelake-client", "Core i7-1065G7|Core i5-1035G1|Core i3-1005G1|Core i7-1068NG7|Core i9-11900K|Core i7-11700K|"
                       "Core i5-11400F|Core i5-11600K|Core i7-11800H|Core i9-11980HK|Core i7-1165G7|Core i5-1135G7|"
                       "Core i7-1185G7|Core i3-1115G4"),
    ("alderlake", "Core i9-12900K|Core i7-12700K|Core i5-12600K|Core i5-12400|Core i3-12100|Core i7-12700H|"
                  "Core i7-1260P|12th Gen Intel(R) Core(TM) i7-1270P|Core i5-1235U|Core i7-1255U|Core i9-13900K|"
                  "Core i7-13700K|Core i5-13600K|Core i5-13400|Core i9-13980HX|Core i7-1360P|Core i5-1335U|"
                  "Core i9-14900K|Core i7-14700K|Core i5-14600K|Core i5-14400|Core i9-14900HX|Core 7 150U|"
                  "Core 5 120U|Core 3 100U"),
    ("meteorlake", "Core Ultra 5 125H|Core Ultra 5 125U|Intel(R) Core(TM) Ultra 7 155H|Core Ultra 7 165U|"
                   "Core Ultra 7 165H|Core Ultra 9 185H|Core Ultra 7 265U|Core Ultra 5 225U"),
    ("lunarlake", "Core Ultra 5 226V|Core Ultra 5 228V|Core Ultra 7 256V|Core Ultra 7 258V|Core Ultra 9 288V"),
    ("arrowlake", "Core Ultra 9 285K|Core Ultra 7 265K|Core Ultra 5 245K|Core Ultra 5 225|Core Ultra 7 265KF|"
                  "Core Ultra 9 275HX|Core Ultra 7 255H|Core Ultra 5 225H"),
    # EPYC (last digit = generation)
    ("zen", "EPYC 7251|EPYC 7281|EPYC 7301|EPYC 7351|EPYC 7401|EPYC 7451|EPYC 7501|EPYC 7551|"
            "AMD EPYC 7601 32-Core Processor|EPYC 7351P|EPYC 3151|AMD EPYC 3251 8-Core Processor|EPYC 3201|"
            "EPYC Embedded 3101"),
    ("zen2", "EPYC 7252|EPYC 7262|EPYC 7272|EPYC 7282|EPYC 7302|EPYC 7302P|EPYC 7352|EPYC 7402|EPYC 7452|"
             "AMD EPYC 7502 32-Core Processor|EPYC 7532|EPYC 7542|EPYC 7552|EPYC 7642|EPYC 7662|EPYC 7702|"
             "EPYC 7742|EPYC 7F52|EPYC 7H12"),
    ("zen3", "EPYC 7313|EPYC 7343|EPYC 7413|EPYC 7443|EPYC 7453|EPYC 7513|EPYC 7543|EPYC 7643|EPYC 7663|"
             "AMD EPYC 7713 64-Core Processor|EPYC 7763|EPYC 72F3|EPYC 75F3|EPYC 7773X|EPYC 7573X"),
    ("zen4", "EPYC 9124|EPYC 9174F|EPYC 9224|EPYC 9254|EPYC 9274F|EPYC 9334|EPYC 9354|EPYC 9374F|EPYC 9454|"
             "EPYC 9474F|EPYC 9534|EPYC 9554|EPYC 9634|EPYC 9654|EPYC 9684X|EPYC 9734|EPYC 9754|EPYC 8024P|"
             "EPYC 8124P|EPYC 8224P|EPYC 8324P|EPYC 8434P|EPYC 8534P|EPYC 4124P|EPYC 4244P|EPYC 4344P|"
             "EPYC 4464P|EPYC 4564P|EPYC 4584PX"),
    ("zen5", "EPYC 9015|EPYC 9115|EPYC 9135|EPYC 9175F|EPYC 9255|EPYC 9335|EPYC 9355|EPYC 9375F|EPYC 9455|"
             "EPYC 9475F|EPYC 9535|EPYC 9555|EPYC 9565|EPYC 9575F|EPYC 9645|EPYC 9655|EPYC 9745|EPYC 9755|"
             "EPYC 9825|EPYC 9845|EPYC 9965|EPYC 4565P|EPYC 4585PX"),
    # Opteron
    ("greyhound", "Opteron 2350|Opteron 2356|Opteron 8356|Opteron 2380|Opteron 2435|Opteron 6134|Opteron 6174|"
                  "Opteron 6176 SE|Opteron 4180"),
    ("bulldozer", "Opteron 6234|Opteron 6276|Opteron 6282 SE|Opteron 4234|Opteron 4284"),
    ("piledriver", "Opteron 6376|Opteron 6380|Opteron 6386 SE|Opteron 4386|Opteron 3380"),
    ("k8-rev-f", "Opteron 2210 HE|Opteron 2218|Opteron 8218|Opteron 1214"),
    ("k8-rev-e", "Dual Core AMD Opteron(tm) Processor 165|Opteron 175|Opteron 185|Opteron 275|Opteron 285|"
                 "Opteron 875|Opteron 252|Opteron 254|Opteron 856"),
    ("k8-early", "Opteron 144|Opteron 248|Opteron 850"),
    # Ryzen
    ("zen", "Ryzen 7 1800X|Ryzen 7 1700X|Ryzen 7 1700|Ryzen 5 1600X|Ryzen 5 1600|Ryzen 5 1500X|Ryzen 3 1300X|"
            "AMD Ryzen 7 2700X Eight-Core Processor|Ryzen 7 2700|Ryzen 5 2600X|Ryzen 5 2600|Ryzen 5 2400G|"
            "Ryzen 3 2200G|Ryzen 5 2500U|Ryzen 7 2700U|Ryzen 5 3400G|Ryzen 3 3200G|Ryzen 5 3500U|Ryzen 7 3700U|"
            "Ryzen 7 3750H"),
    ("zen2", "Ryzen 9 3950X|Ryzen 9 3900X|Ryzen 7 3800X|Ryzen 7 3700X|Ryzen 5 3600X|Ryzen 5 3600|Ryzen 3 3300X|"
             "Ryzen 3 3100|Ryzen 7 4700U|Ryzen 7 4800H|Ryzen 5 4600H|Ryzen 5 4500U|Ryzen 7 PRO 4750G|Ryzen 5 4650G|"
             "Ryzen 3 4300G|Ryzen 7 5700U|Ryzen 5 5500U|Ryzen 3 5300U|Ryzen 5 7520U|Ryzen 3 7320U"),
    ("zen3", "AMD Ryzen 9 5950X 16-Core Processor|Ryzen 9 5900X|Ryzen 7 5800X|Ryzen 7 5800X3D|Ryzen 5 5600X|"
             "Ryzen 5 5600|Ryzen 5 5500|Ryzen 7 5700G|Ryzen 5 5600G|Ryzen 7 5800U|Ryzen 5 5600U|Ryzen 9 5900HX|"
             "Ryzen 7 5800H|Ryzen 7 5825U|Ryzen 7 6800U|Ryzen 9 6900HS|Ryzen 5 6600U|Ryzen 7 6800H|Ryzen 5 7530U|"
             "Ryzen 7 7730U|Ryzen 7 7735HS|Ryzen 7 7735U|Ryzen 5 7535U"),
    ("zen4", "Ryzen 9 7950X|Ryzen 9 7950X3D|Ryzen 9 7900X|Ryzen 9 7900|Ryzen 7 7800X3D|Ryzen 7 7700X|Ryzen 7 7700|"
             "AMD Ryzen 5 7600X 6-Core Processor|Ryzen 5 7600|Ryzen 7 7840HS|Ryzen 7 7840U|Ryzen 5 7640U|"
             "Ryzen 9 7940HS|Ryzen 9 7945HX|Ryzen 9 7845HX|Ryzen 7 8700G|Ryzen 5 8600G|Ryzen 5 8500G|"
             "Ryzen 7 8840HS|Ryzen 7 8845HS|Ryzen 5 8640U|Ryzen 7 8840U"),
    ("zen5", "AMD Ryzen 9 9950X 16-Core Processor|Ryzen 9 9950X3D|Ryzen 9 9900X|Ryzen 7 9700X|Ryzen 5 9600X|"
             "Ryzen 9 9955HX|Ryzen AI 9 HX 370|Ryzen AI 9 365|Ryzen AI 7 350|Ryzen AI 5 340|AMD Ryzen AI Max+ 395|"
             "Ryzen AI Max 390"),
    # Threadripper
    ("zen", "Ryzen Threadripper 1950X|Ryzen Threadripper 1920X|Ryzen Threadripper 1900X|Ryzen Threadripper 2990WX|"
            "Ryzen Threadripper 2970WX|Ryzen Threadripper 2950X|Ryzen Threadripper 2920X"),
    ("zen2", "Ryzen Threadripper 3990X|Ryzen Threadripper 3970X|Ryzen Threadripper 3960X|"
             "Ryzen Threadripper PRO 3995WX|Ryzen Threadripper PRO 3975WX"),
    ("zen3", "Ryzen Threadripper PRO 5995WX|Ryzen Threadripper PRO 5975WX|"
             "AMD Ryzen Threadripper PRO 5965WX 24-Cores"),
    ("zen4", "Ryzen Threadripper 7980X|Ryzen Threadripper 7970X|Ryzen Threadripper 7960X|"
             "Ryzen Threadripper PRO 7995WX|Ryzen Threadripper PRO 7985WX"),
    ("zen5", "Ryzen Threadripper 9980X|Ryzen Threadripper 9970X|Ryzen Threadripper PRO 9995WX"),
    # Hygon
    ("hygon-dhyana", "Hygon C86 7185 32-core Processor|Hygon C86 3185 8-core Processor|Hygon C86 7285"),
]

NAMES = [(name, gen) for gen, names in GROUPS for name in names.split("|")]
# Products whose generation has variants without a mode's features: the lower mode.
OVERRIDES = {"Xeon Bronze 3408U": ("sapphirerapids", "intel-icelake"),
             "Intel(R) Xeon(R) Bronze 3408U": ("sapphirerapids", "intel-icelake"),
             "Xeon Bronze 3508U": ("emeraldrapids", "intel-icelake")}


def test_table_is_large_and_unique() -> None:
    """At least 300 distinct real names, each of a generation the table knows."""
    names = [n for n, _ in NAMES] + list(OVERRIDES)
    assert len(names) >= 300 and len(set(names)) == len(names)


@pytest.mark.parametrize(("name", "gen"), NAMES)
def test_name_gives_generation_and_mode(catalog: Catalog, name: str, gen: str) -> None:
    """The name resolves to its generation; the assumed host reaches the generation's expected mode."""
    match = catalog.generations.by_name(name)
    assert match.generation.key == gen
    verdict = assess(profile_from_name(name, catalog), catalog)
    assert (verdict.max_mode.key if verdict.max_mode else None) == MODE[gen]


@pytest.mark.parametrize(("name", "expected"), sorted(OVERRIDES.items()))
def test_variant_without_amx_gets_the_lower_mode(catalog: Catalog, name: str, expected: tuple[str, str]) -> None:
    """Sapphire/Emerald Rapids Bronze parts lack AMX: intel-icelake, as the real Bronze 3408U dump shows."""
    gen, mode = expected
    profile = profile_from_name(name, catalog)
    verdict = assess(profile, catalog)
    assert profile.generation is not None and profile.generation.key == gen
    assert verdict.max_mode is not None and verdict.max_mode.key == mode
    assert any("AMX" in n for n in profile.notes)


@pytest.mark.parametrize("name", ["Xeon 6530", "Intel(R) Xeon(R) CPU 6530", "Xeon 5420", "Xeon 6520"])
def test_ambiguous_names_list_candidates(catalog: Catalog, name: str) -> None:
    """A bare number that reads as products of several generations is an error listing them, never a guess."""
    with pytest.raises(AmbiguousCpuError) as info:
        catalog.generations.by_name(name)
    assert len(info.value.candidates) >= 2 and "ambiguous CPU name" in str(info.value)
    assert isinstance(info.value, UnknownCpuError)


def test_xeon_6530_candidates_named(catalog: Catalog, capsys: pytest.CaptureFixture[str]) -> None:
    """`evckit host --cpu "Xeon 6530"` exits 2 with one line naming Gold 6530, the 6500-series and 6530P."""
    assert main(["host", "--cpu", "Xeon 6530"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Gold 6530" in err and "6530" in err and "6530P" in err


def test_hygon_is_answered_without_a_mode(capsys: pytest.CaptureFixture[str]) -> None:
    """A Hygon name is not refused: it is answered with no EVC mode and the reason."""
    assert main(["host", "--cpu", "Hygon C86 7185 32-core Processor", "--format", "json"]) == 0
    host = json.loads(capsys.readouterr().out)["hosts"][0]
    assert host["max_evc_mode"] is None and "hygon" in host["reason"].lower()


def test_bronze_3408u_host_command(capsys: pytest.CaptureFixture[str]) -> None:
    """`evckit host --cpu "Xeon Bronze 3408U"` answers intel-icelake, not intel-sapphirerapids."""
    assert main(["host", "--cpu", "Xeon Bronze 3408U", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["hosts"][0]["max_evc_mode"] == "intel-icelake"


def test_overrides_are_lower_modes_of_the_same_vendor(catalog: Catalog) -> None:
    """A rule's max_evc is a mode of the generation's vendor, contained in the generation's expected mode."""
    for rule in catalog.generations.product_rules:
        if rule.max_evc is None:
            continue
        gen = catalog.generations.get(rule.generation)
        low = catalog.mode(rule.max_evc)
        assert low.vendor == gen.vendor and rule.note
        if gen.expected_max_evc is not None:
            assert low.features <= catalog.mode(gen.expected_max_evc).features
