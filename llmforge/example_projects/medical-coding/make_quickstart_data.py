"""Build `llmforge/data/quickstart.jsonl`, the medical-coding data that `llmforge quickstart` trains on

    python llmforge/example_projects/medical-coding/make_quickstart_data.py            # write the file
    python llmforge/example_projects/medical-coding/make_quickstart_data.py --check    # exit 1 if it is stale
    python llmforge/example_projects/medical-coding/make_quickstart_data.py --out x.jsonl

Everything here is synthetic. The narratives are assembled from short fragments written for this script (clinical
shorthand: pt, c/o, hx, PMH, SOB, DM2, s/p, w/, r/o, neg, f/u, b/l, ...); no text was copied from a real record, and
no name, date, record number, place or other identifier is ever produced (ages are 18-85). Nothing is downloaded.

What is sampled. Each code below carries four lists of fragments: `t` ways of naming the diagnosis, procedure or
supply (abbreviations, lay and clinical synonyms, brand and generic drug names; the code's official wording is
avoided), `h` the history or indication, `o` findings or details, and `p` the plan or what followed. Fragments in
`o` that start with `!` carry the fact that separates the code from a related one (E11.9 vs E11.65: "no retinopathy"
vs "A1c 10.8"; 94060 vs 94010: a bronchodilator was given); a narrative of a code that has them carries exactly one,
plus at most one plain supporting finding. A narrative is one template of its kind (diagnosis, procedure, supply)
filled with an age and sex, one naming of the coded item, a history, its findings and a plan; 25-60 words. Some
narratives also carry a distractor: another condition in the background ("PMH HTN on lisinopril, HLD on
atorvastatin") or a negated one ("denies CP or SOB"), chosen by tags so that it does not clash with the coded item,
which stays the reason for the visit, procedure or supply. The answer names the code's description, then the code
with its system label (`Type 2 diabetes mellitus without complications. ICD10: E11.9`): a model that first puts the
narrative in the code set's words maps those words to a code far faster than it maps free text to a code (measured on
SmolLM2-135M: 29% exact after 150 steps against 1% after 100 and 15% after 200 with the code alone); the code is
what is scored. The description is also kept in `metadata`. Every code is checked with
`llmforge.codes.validate` (billable ICD-10-CM codes from `simple-icd-10-cm`; CPT and HCPCS codes from llmforge's own
tables), every narrative with `llmforge.phi.find_phi` and a word count; the script stops at the first failure.

How train and held-out differ. Codes are "seen" (50 ICD-10-CM, 25 CPT, 25 HCPCS) or "unseen" (15, 8, 7).
- train: 8 narratives per seen code, half of them with a distractor. The last fragment of each of a seen code's four
  lists, and a separate set of templates, never appear in training.
- val, heldout "seen_code": 1 narrative per seen code, built only from those held-out fragments and a held-out
  template, so it is new text for a known code (its held-out naming is a synonym, an abbreviation or a brand name the
  training narratives of that code do not use); 80% carry a distractor. A bag-of-words nearest neighbour
  (`llmforge.evaluation.KeywordMatch`) trained on train gets about a fifth of them right.
- val, heldout "unseen_code": 1 narrative per unseen code; these codes never appear in train. Several are siblings of
  seen codes (left knee vs right knee, spirometry without vs with bronchodilator), the rest are new conditions.
Each split is shuffled with a fixed seed; train lines come first. Running the script twice gives the same bytes.
"""
from __future__ import annotations
import argparse, json, random, re, sys
from pathlib import Path

SEED = 20240611
N_TRAIN = 8                      # training narratives per seen code
MIN_WORDS,MAX_WORDS = 25, 60     # narrative length in words
P_DISTRACTOR = {None: 0.5, 'seen_code': 0.8, 'unseen_code': 0.8}   # share of narratives with a distractor, per kind
PACKAGE = Path(__file__).resolve().parents[2]          # llmforge/, when this file sits in llmforge/example_projects
OUT = PACKAGE/'data'/'quickstart.jsonl'
LABEL = {'icd10cm': 'ICD10', 'cpt': 'CPT', 'hcpcs': 'HCPCS'}

def C(code, specialty, tags='', t='', h='', o='', p='', age=(30, 82), sex=None, kind='item'):
    "One code and its fragments; `t`, `h`, `o`, `p` are '|'-separated, the last of each is held out"
    sp = lambda s: [x.strip() for x in s.split('|') if x.strip()]
    return dict(code=code, specialty=specialty, tags=set(tags.split()), terms=sp(t), hpi=sp(h), obj=sp(o), plan=sp(p),
                age=age, sex=sex, kind=kind)

# ---------------------------------------------------------------------------------------------------------------
# ICD-10-CM, seen: the narrative is the story of a visit and ends in an assessment
ICD_SEEN = [
    C('E11.9', 'endocrinology', 'dm', age=(40, 80),
      t='DM2 w/o complications|uncomplicated type 2 DM|T2DM, no end-organ disease|type II DM, uncomplicated'
        '|adult-onset diabetes w/o sequelae',
      h='here for 3-mo DM f/u, feels well|f/u of sugars, checks FSBG daily, no lows|routine DM visit, adherent to meds'
        ' and diet|returns to review glycemic control, morning readings 100-120',
      o='!A1c 6.7%, no retinopathy on dilated eye exam|!monofilament intact, urine microalbumin neg|!no neuropathy,'
        ' nephropathy or retinopathy documented|BMI 29, BP at goal|!hemoglobin A1c 6.9, retinal photos clear, kidney'
        ' function and sensation normal',
      p='cont metformin 1000 mg bid|recheck A1c in 3 mo|reinforced carb counting, return in six months'),
    C('E11.65', 'endocrinology', 'dm eye', age=(35, 80),
      t='DM2 w/ hyperglycemia|poorly controlled type 2 DM|uncontrolled T2DM w/ elevated sugars|type 2 DM,'
        ' hyperglycemic|adult-onset diabetes, blood glucose far above target',
      h='c/o polyuria and polydipsia x 3 wks|reports home FSBG 280-350 despite metformin|missed meds for a month, now'
        ' thirsty and fatigued|notes blurry vision and nocturia, readings over 300 on meter',
      o='!A1c 10.8%|!random glucose 342, no ketones, AG normal|!A1c up from 7.9 to 9.6|no retinopathy, feet intact'
        '|!point-of-care BG 388, bicarbonate normal, no ketonuria',
      p='add basal glargine 10 units qhs|uptitrate metformin, start empagliflozin|begin bedtime long-acting insulin,'
        ' diabetes educator visit'),
    C('R73.03', 'endocrinology', 'dm', age=(30, 75),
      t='prediabetes|pre-DM|borderline diabetes|prediabetic state|at-risk glycemia below the diabetic threshold',
      h='annual labs show mildly elevated sugar|FHx DM2, asks about diabetes risk|overweight, sedentary, here to'
        ' review labs|wellness bloodwork flagged, asymptomatic',
      o='!A1c 6.1%, no prior dx of DM|!fasting glucose 112, A1c 5.9|BMI 31, not on glucose-lowering meds|!glycated Hb'
        ' 6.2% twice, never treated for DM',
      p='lifestyle modification, DPP referral|recheck A1c in 6-12 mo|referred to a year-long prevention program, walk'
        ' 150 min weekly'),
    C('E03.9', 'endocrinology', 'thyroid',
      t='hypothyroidism|underactive thyroid|primary hypothyroid state|low thyroid function|mild myxedema',
      h='c/o fatigue, cold intolerance and wt gain|reports constipation, dry skin, feels sluggish|f/u on thyroid'
        ' replacement dose|notes hair thinning and puffiness, slowed thinking',
      o='!TSH 9.8, free T4 low|!TSH 12.4|delayed DTR relaxation, dry skin, no goiter|!thyrotropin 8.1, thyroxine'
        ' borderline',
      p='start levothyroxine 50 mcg daily|increase levothyroxine to 88 mcg, recheck TSH 6 wks|begin L-thyroxine 25'
        ' micrograms, labs again in 6 weeks'),
    C('E55.9', 'endocrinology', 'vitd joint',
      t='vitamin D deficiency|low vit D|hypovitaminosis D|vit D deficient state|low calciferol status',
      h='c/o diffuse aches and fatigue|limited sun exposure, works nights|labs reviewed after fall risk screen|reports'
        ' muscle weakness, stays indoors most days',
      o='!25-OH vit D 12 ng/mL|Ca and PTH nl|!vit D level 9|!25-hydroxy D returned at 11, calcium normal',
      p='ergocalciferol 50,000 IU weekly x 8 wks|start D3 2000 IU daily|high-dose cholecalciferol weekly, repeat assay'
        ' in 12 weeks'),
    C('E78.5', 'endocrinology', 'hld',
      t='hyperlipidemia|HLD|high cholesterol|dyslipidemia|raised blood lipids, type not specified',
      h='here to review fasting lipids|f/u on statin, no myalgias|new pt, never on cholesterol meds|annual labs'
        ' reviewed, tolerating diet changes',
      o='LDL 168, HDL 42|total chol 256, HDL 38|ASCVD risk 12%|low-density lipoprotein 174, non-HDL 200',
      p='start atorvastatin 20 mg|increase rosuvastatin to 20 mg|begin pravastatin 40, recheck panel in 12 weeks'),
    C('I10', 'cardiology', 'htn',
      t='HTN|high BP|hypertension, uncomplicated|HTN w/o end-organ damage|benign essential hypertension',
      h='here for BP check|reports home BP readings 150s/90s|f/u on lisinopril, no side effects|brings home cuff log'
        ' w/ SBP 145-160',
      o='!BP 158/96, repeat 152/94, no end-organ damage|!BP 162/98, no LVH, no proteinuria|BMP nl, UACR nl, fundi nl'
        '|!office BP 148/92 x2, no secondary cause, kidneys and heart normal',
      p='start amlodipine 5 mg|increase lisinopril to 20 mg|start chlorthalidone 12.5, sodium restriction'),
    C('I48.0', 'cardiology', 'afib palp',
      t='paroxysmal AF|PAF|afib, self-limited episodes|self-terminating AFib|on-and-off atrial fibrillation, converts'
        ' spontaneously',
      h='c/o episodes of palpitations lasting hours|reports racing heart spells that stop on their own|sent from'
        ' urgent care w/ irregular HR that resolved|notes brief bouts of fluttering w/ lightheadedness',
      o='!Holter: AF episodes up to 6 h, spontaneous conversion|!ECG today NSR, prior strip showed AF|TTE nl EF, TSH'
        ' nl|!30-day patch recorded 40-min runs of irregularly irregular rhythm, sinus in between',
      p='start metoprolol, CHA2DS2-VASc 2, apixaban|rate control and anticoagulation discussed|begin diltiazem,'
        ' anticoagulate per risk score'),
    C('I21.4', 'cardiology', 'cp sob cad', age=(45, 85),
      t='NSTEMI|non-ST elevation MI|type 1 NSTEMI|non-STEMI|subendocardial infarction',
      h='c/o substernal pressure radiating to L arm x 2 h|presents w/ chest tightness and diaphoresis at rest|woke w/'
        ' crushing CP and nausea|ED arrival w/ squeezing retrosternal discomfort and dyspnea',
      o='!troponin 0.09 then 1.4, ST depression V4-V6|!hs-troponin rising, no ST elevation|BP 150/88, HR 96, lungs'
        ' clear|!trop peak 3.2, TWI lateral leads, no STE',
      p='heparin gtt, ASA, cath in AM|load ticagrelor, cardiology consult|DAPT, statin, plan for angiography'),
    C('I50.22', 'cardiology', 'hf sob edema', age=(45, 85),
      t='chronic HFrEF|chronic systolic CHF|stable systolic heart failure|chronic heart failure w/ reduced EF'
        '|long-standing HF w/ poor LV contraction',
      h='here for HF f/u, NYHA II, stable|reports stable DOE after 2 blocks, no orthopnea|routine cardiology visit, wt'
        ' stable at home|f/u in HF clinic, no recent admissions',
      o='!EF 30% on last echo|!LVEF 25-30%, euvolemic on exam|no JVD, lungs clear, BNP 180|!ejection fraction 28%, no'
        ' edema, wt unchanged',
      p='cont carvedilol, sacubitril/valsartan|add spironolactone|maintain beta-blocker and ARNI, return in 12 weeks'),
    C('I50.32', 'cardiology', 'hf sob edema', age=(50, 85),
      t='chronic HFpEF|chronic diastolic CHF|stable diastolic heart failure|chronic HF w/ preserved EF|long-term heart'
        ' failure, normal ejection fraction',
      h='here for HF f/u, no recent exacerbation|reports stable exertional SOB, sleeps flat|f/u after med change, wt'
        ' stable|long-standing dyspnea on exertion, unchanged',
      o='!EF 60%, grade II diastolic dysfunction|!LVEF 55%, LVH, elevated filling pressures|trace ankle edema, BNP 240'
        '|!ejection fraction 62%, stiff ventricle, enlarged left atrium',
      p='cont low-dose furosemide|BP control, add SGLT2i|daily weights, salt restriction'),
    C('I26.99', 'pulmonology', 'sob cp dvt',
      t='acute PE|pulmonary embolism|PE w/o RV strain|segmental pulmonary emboli|lung clot (embolus), RV not affected',
      h='c/o sudden pleuritic CP and SOB|presents w/ acute dyspnea 5 days after long flight|post-op day 9 w/ new'
        ' tachycardia and SOB|acute onset breathlessness and sharp chest pain on inspiration',
      o='!CTA: R lower lobe segmental filling defects, RV/LV ratio nl|!CTPA w/ b/l segmental emboli, no RV dilation'
        '|D-dimer elevated, HR 112|!chest angiography: lobar-branch thrombi, right ventricle normal size',
      p='start apixaban|heparin gtt then transition to DOAC|anticoagulate 3 mo, outpatient f/u'),
    C('I82.411', 'cardiology', 'dvt edema',
      t='acute R femoral DVT|right femoral vein thrombosis|acute DVT of the rt femoral vein|acute R femoral v.'
        ' thrombosis|fresh R femoral venous clot',
      h='c/o R thigh and calf swelling x 3 days|presents w/ painful swollen R leg after knee surgery|reports R leg'
        ' heaviness and redness since long drive|4 days of progressive right upper-leg fullness and ache',
      o='!duplex: occlusive thrombus R femoral vein|!calf circumference +3 cm on R, duplex + femoral|Wells score 3'
        '|!compression sonography: femoral segment on the R not collapsible',
      p='start rivaroxaban|enoxaparin bridge to warfarin|DOAC x 3 mo, compression stockings'),
    C('J44.1', 'pulmonology', 'copd sob cough smoker', age=(45, 85),
      t='AECOPD|COPD exacerbation|acute exacerbation of COPD|COPD flare|chronic obstructive lung disease, acutely'
        ' worse',
      h='c/o increased SOB and sputum x 4 days|reports more wheeze, purulent sputum, using rescue inhaler q2h|known'
        ' COPD, worse dyspnea since URI|3 days of more phlegm, darker color, and breathlessness',
      o='SpO2 88% RA, diffuse wheezes|CXR hyperinflation, no infiltrate|ABG 7.36/52|prolonged expiration, O2 sat 89%'
        ' on room air',
      p='prednisone 40 mg x 5 d, azithromycin|duonebs q4h, steroids|steroid burst, doxycycline, neb treatments'),
    C('J45.41', 'pulmonology', 'asthma sob cough', age=(18, 65),
      t='moderate persistent asthma w/ exacerbation|asthma flare, moderate persistent|exacerbation of moderate'
        ' persistent asthma|acute asthma exacerbation on background moderate persistent disease|moderate persistent'
        ' bronchial asthma in an acute attack',
      h='c/o wheezing and chest tightness x 2 days|baseline daily sx on medium-dose ICS/LABA, now worse|night cough'
        ' waking pt several times, albuterol not helping|triggered by a cold, needing rescue inhaler 5-6x/day',
      o='!at baseline daily sx, night awakenings >1/wk|!peak flow 55% of personal best, worse than baseline|diffuse'
        ' exp wheeze, SpO2 94%|!FEV1 65% predicted at baseline, PEF now 50%',
      p='prednisone burst, albuterol nebs|step up controller|oral steroids x 5 d, review inhaler technique'),
    C('J18.9', 'pulmonology', 'fever cough sob infect',
      t='CAP|community-acquired pneumonia|RLL pneumonia|pneumonia, organism not identified|PNA, microbe not isolated',
      h='c/o fever, productive cough and pleuritic pain x 4 days|presents w/ cough, rigors and SOB|reports fever to'
        ' 102 and green sputum|5 days of febrile illness, shaking chills, wet hacking',
      o='!CXR: RLL consolidation, cx pending|crackles R base, WBC 15.8|!blood and sputum cx neg, urine antigens neg'
        '|!phlegm and blood cultures sterile, L base airspace opacity on film',
      p='ceftriaxone + azithro|amox-clav and doxy outpatient|admit, IV abx, incentive spirometry'),
    C('G47.33', 'pulmonology', 'osa ha',
      t='OSA|obstructive sleep apnea|obstructive apnea syndrome|sleep-disordered breathing, obstructive|upper airway'
        ' collapse during sleep (OSAS)',
      h='bed partner reports loud snoring and witnessed apneas|c/o daytime sleepiness, Epworth 15|wakes gasping,'
        ' morning HA|dozes off while driving, snores loudly',
      o='!PSG AHI 28, obstructive events|!sleep study AHI 18, nadir SpO2 82%|neck circ 18 in, Mallampati IV|!home'
        ' study: 34 breathing pauses per hour w/ persistent effort',
      p='start auto-CPAP|CPAP titration, wt loss|refer for PAP therapy, avoid sedatives'),
    C('U07.1', 'pulmonology', 'fever cough infect',
      t='COVID-19|COVID infection|SARS-CoV-2 infection|COVID|coronavirus disease 2019',
      h='c/o fever, myalgias and loss of smell x 2 days|reports sore throat, cough and fatigue|household contact'
        ' tested positive, now febrile|3 days of body aches, scratchy throat, cannot taste food',
      o='!home antigen test positive|!PCR + for SARS-CoV-2|SpO2 97% RA, lungs clear|!molecular swab positive for the'
        ' 2019 novel coronavirus',
      p='isolation, supportive care|paxlovid x 5 days|hydration, antipyretics, return if SOB'),
    C('M17.11', 'orthopedics', 'oa knee joint', age=(50, 85),
      t='primary OA R knee|R knee osteoarthritis|DJD of the right knee|degenerative arthritis, rt knee|gonarthrosis,'
        ' right side, primary',
      h='c/o R knee pain worse w/ stairs x 2 yrs|reports rt knee stiffness in AM < 30 min, crepitus|chronic R knee'
        ' ache limiting walks|years of rt knee aching, stiff after sitting',
      o='!XR R knee: medial jt space narrowing, osteophytes|!crepitus R knee, no effusion, L knee asymptomatic'
        '|antalgic gait, BMI 31|!standing radiographs: bone spurs and cartilage loss, R side only',
      p='PT, NSAIDs|steroid injection discussed|wt loss, topical diclofenac'),
    C('M54.50', 'orthopedics', 'back',
      t='low back pain|LBP|lumbago|lower back pain|lumbalgia',
      h='c/o low back ache after lifting boxes x 1 wk|reports achy lumbar pain, worse sitting|back pain x 10 days, no'
        ' trauma|sore lower spine since gardening',
      o='!no radicular sx, SLR neg|paraspinal tenderness, nl strength|!no saddle anesthesia, neuro intact, no leg pain'
        '|!straight-leg raise negative b/l, reflexes symmetric',
      p='NSAIDs, heat, stay active|PT referral|muscle relaxer qhs, f/u 4 wks'),
    C('M51.16', 'orthopedics', 'back neuro',
      t='lumbar disc herniation w/ radiculopathy|L5 radiculopathy from L4-5 disc|HNP L4-L5 w/ sciatica|lumbar disc'
        ' disease w/ radicular pain|prolapsed intervertebral disk, low back, w/ sciatic nerve irritation',
      h='c/o low back pain radiating down L leg to foot|shooting pain down posterior R leg x 3 wks|numbness lateral'
        ' calf after lifting|electric pain from the buttock to the outer calf',
      o='!MRI: L4-5 disc extrusion compressing L5 root|diminished ankle reflex on the affected side|!MRI L3-4'
        ' protrusion w/ L4 root contact|!positive straight-leg raise, dermatomal sensory loss L5',
      p='PT, gabapentin|ESI referral|oral steroid taper, spine f/u'),
    C('S52.531A', 'orthopedics', 'trauma wrist',
      t='R Colles fx|closed Colles fracture of right distal radius|right distal radius fx, dorsally displaced|closed'
        ' dorsally angulated R distal radius fracture|right wrist break with dorsal tilt of the radial end',
      h='FOOSH on ice today, R wrist pain|fell onto outstretched R hand, wrist deformity|tripped, landed on R hand,'
        ' initial visit|slipped in the bathtub and caught the fall with the right palm, first evaluation',
      o='!XR: dorsally displaced distal radius fx R, skin intact|!dinner-fork deformity, NV intact, closed injury'
        '|snuffbox nontender, cap refill nl|!radiographs: extra-articular dorsal angulation, skin unbroken',
      p='closed reduction, sugar-tong splint|ortho f/u in 1 wk|plaster slab, sling, bone clinic in a week'),
    C('M75.121', 'orthopedics', 'shoulder trauma', age=(45, 85),
      t='complete R rotator cuff tear, nontraumatic|full-thickness RTC tear R shoulder|degenerative full-thickness'
        ' supraspinatus tear, right|R RC tear, complete, atraumatic|right-sided rotator tendon rupture, attritional',
      h='c/o R shoulder pain and weakness lifting arm x 4 mo|gradual R shoulder pain, cannot reach overhead, no injury'
        '|night pain R shoulder, no trauma|progressive trouble lifting the right arm overhead, no fall',
      o='!MRI: full-thickness supraspinatus tear w/ retraction|drop-arm test +, weak ER|!MRI complete tear of cuff'
        ' tendon, no fracture|!MR arthrogram: tendon torn through and retracted, no preceding trauma',
      p='ortho referral for repair|PT, consider arthroscopic repair|surgical consult'),
    C('S93.401A', 'orthopedics', 'trauma ankle', age=(18, 60),
      t='R ankle sprain|sprained rt ankle|right ankle ligament sprain|inversion sprain R ankle|right lateral ankle'
        ' ligaments stretched',
      h='rolled R ankle playing basketball today|inversion injury R ankle stepping off curb, first visit|R ankle pain'
        ' and swelling after twisting on stairs|turned the right foot under on uneven ground this morning, new visit',
      o='!Ottawa neg, no XR needed|lateral swelling, ecchymosis, able to bear wt|!XR R ankle neg for fx|!malleoli'
        ' nontender, radiographs not indicated',
      p='RICE, ankle brace|crutches PRN, NSAIDs|elevation, compression wrap, return if not improving'),
    C('M81.0', 'orthopedics', 'bone', age=(55, 85), sex='F',
      t='postmenopausal osteoporosis|age-related osteoporosis|senile osteoporosis|osteoporosis, no fracture|thin bones'
        ' of aging, no fragility fx',
      h='here to review DXA|postmenopausal, no prior fractures|screening bone density result f/u|early menopause,'
        ' height loss 1 in, no fractures',
      o='!DXA T-score -2.8 L spine|!T-score -2.6 fem neck, no fx|vit D nl, Ca nl|!hip T -3.0 on densitometry, spine'
        ' films without compression deformity',
      p='start alendronate 70 mg weekly|Ca/vit D, wt-bearing exercise|weekly oral risedronate, repeat scan in two'
        ' years'),
    C('M79.7', 'rheumatology', 'msk psych joint',
      t='fibromyalgia|fibromyalgia syndrome|FMS|FM syndrome|fibrositis',
      h='c/o widespread body pain > 6 mo|reports aching all over, poor sleep, fatigue|diffuse pain and brain fog for a'
        ' year|years of aching everywhere, wakes unrested',
      o='multiple tender points|ESR, CRP, CK, TSH nl|WPI 9, SSS 6|inflammatory markers and thyroid labs unremarkable,'
        ' no synovitis',
      p='start duloxetine, graded exercise|sleep hygiene, CBT|low-dose amitriptyline at bedtime, pool walking'),
    C('G56.01', 'orthopedics', 'wrist neuro',
      t='R CTS|right carpal tunnel syndrome|median neuropathy at the R wrist|R carpal tunnel|compression neuropathy in'
        ' the right carpal canal',
      h='c/o numbness R thumb, index and middle fingers, worse at night|wakes shaking R hand|tingling rt hand while'
        ' typing x 6 mo|nocturnal paresthesias of the radial three digits, right hand',
      o='!Phalen + and Tinel + on R|!EMG/NCS: R median sensory latency prolonged|thenar bulk preserved'
        '|!electrodiagnostics: slowed conduction across the R carpal canal, left side normal',
      p='wrist splint at night|NSAIDs, consider steroid injection|hand surgery referral if persists'),
    C('K21.9', 'gastroenterology', 'gerd gi cp',
      t='GERD|acid reflux|gastroesophageal reflux|reflux disease w/o esophagitis|NERD, nonerosive type',
      h='c/o heartburn after meals and at night|reports sour taste in mouth, worse lying down|burning epigastric pain'
        ' relieved by antacids|nightly regurgitation and a sour throat',
      o='!EGD: no esophagitis|no dysphagia, wt stable|!prior EGD normal mucosa|!no alarm sx, endoscopy without'
        ' erosions',
      p='start omeprazole 20 mg daily|elevate HOB, avoid late meals|PPI trial x 8 wks, diet changes'),
    C('K35.80', 'gastroenterology', 'abd gi fever', age=(18, 60),
      t='acute appendicitis|appendicitis, acute|acute appendicitis on CT|acute inflammation of the appendix|acutely'
        ' inflamed appendix',
      h='periumbilical pain migrating to RLQ x 1 day|c/o RLQ pain, anorexia, nausea|abd pain since last night, now'
        ' RLQ, low-grade temp|pain started around the belly button, now sharp in right lower quadrant',
      o='McBurney pt tenderness, WBC 14.2|CT: dilated appendix 11 mm w/ fat stranding|rebound in RLQ, Rovsing +'
        '|abdominal CT: swollen 12 mm appendix, surrounding fat inflamed',
      p='NPO, IV abx, surgery consult|gen surg for lap appy|admit for appendectomy'),
    C('K80.20', 'gastroenterology', 'gb abd gi',
      t='symptomatic cholelithiasis|gallstones|biliary colic from cholelithiasis|cholelithiasis w/o cholecystitis'
        '|stones in the gallbladder, uncomplicated',
      h='RUQ pain after fatty meals, episodes last 1-2 h|recurrent postprandial epigastric/RUQ pain|c/o intermittent'
        ' RUQ cramping radiating to R scapula|bouts of right upper quadrant pain after dinner that resolve',
      o='!US: multiple gallstones, no wall thickening, no pericholecystic fluid|Murphy neg, LFTs and WBC nl|!CBD 4 mm,'
        ' no ductal dilation, no GB wall edema|!ultrasound w/ shadowing stones, normal GB wall, bili normal',
      p='surgery referral for lap chole|low-fat diet|elective cholecystectomy discussed'),
    C('K57.32', 'gastroenterology', 'abd gi fever bleed', age=(40, 85),
      t='acute diverticulitis|sigmoid diverticulitis, uncomplicated|uncomplicated diverticulitis|diverticulitis of the'
        ' colon|inflamed colonic diverticula without abscess',
      h='c/o LLQ pain x 3 days w/ low-grade fever|LLQ cramping and change in bowel habits|hx diverticulosis, now LLQ'
        ' pain and fever|2 days of left lower abdominal pain, chills, loose stools',
      o='!CT: sigmoid wall thickening w/ pericolic stranding, no abscess or free air|WBC 13.1, LLQ tenderness, no'
        ' rectal bleeding|!no perforation, no abscess on CT|!CT shows inflamed sigmoid diverticula, no fluid'
        ' collection or extraluminal gas',
      p='amox-clav, clear liquids|outpatient abx, f/u 1 wk|cipro/metronidazole, NPO except sips, scope after recovery'),
    C('N20.0', 'urology', 'stone gu uti',
      t='nephrolithiasis|kidney stone|renal calculus|intrarenal stone|nephrolith',
      h='c/o L flank pain and hematuria|intermittent flank ache, hx stones|incidental finding on imaging f/u, mild'
        ' flank discomfort|episodic dull side pain and pink urine',
      o='!CT: 6 mm nonobstructing L lower pole renal stone|!US: 8 mm echogenic focus in R kidney w/ shadowing|UA:'
        ' RBCs, no nitrites|!unenhanced CT: 5 mm density in a left calyx, no hydronephrosis',
      p='hydration, urology f/u|strain urine, stone analysis|lithotripsy consult'),
    C('N40.1', 'urology', 'bph gu uti', age=(50, 85), sex='M',
      t='BPH w/ LUTS|enlarged prostate w/ urinary sx|benign enlargement of prostate w/ obstructive voiding sx|BPH'
        ' causing LUTS|benign prostatic hyperplasia causing voiding complaints',
      h='c/o nocturia x3, weak stream|reports hesitancy and incomplete emptying|dribbling and frequency for months'
        '|slow flow, straining to void, up 3 times a night',
      o='!DRE: smooth enlarged prostate, no nodules|IPSS 18, PVR 120 mL|!PSA 2.1, prostate 50 g|!rectal exam: smooth'
        ' rubbery 50 g gland, antigen level normal',
      p='start tamsulosin 0.4 mg|add finasteride|alpha-blocker trial, urology f/u'),
    C('N30.00', 'general medicine', 'uti gu fever', age=(18, 70), sex='F',
      t='acute cystitis w/o hematuria|uncomplicated cystitis|simple bladder infection|acute UTI (cystitis), no'
        ' hematuria|nonhemorrhagic bladder inflammation, infectious',
      h='c/o dysuria and frequency x 2 days|burning w/ urination, urgency|suprapubic discomfort and frequency|2 days'
        ' of stinging when voiding, going every hour',
      o='!UA: + LE and nitrites, no blood|!dip: nitrite +, neg for RBCs|afebrile, no CVA tenderness|!dipstick shows'
        ' pyuria and bacteriuria, heme absent',
      p='nitrofurantoin x 5 days|urine cx sent, TMP-SMX|fluids, macrobid, return if fever'),
    C('L03.115', 'dermatology', 'skin fever dvt rash',
      t='RLE cellulitis|cellulitis of the R lower leg|right leg cellulitis|nonpurulent cellulitis R lower extremity'
        '|soft-tissue infection of the right leg below the knee, no pus',
      h='c/o red, warm, painful R shin x 3 days|spreading redness R lower leg after scratch|R calf redness and'
        ' swelling, low-grade fever|hot tender red area on the right shin growing for 2 days',
      o='!erythema, warmth, no fluctuance or abscess|!duplex neg for DVT, no abscess|WBC 11.4|!no purulence, margins'
        ' marked, no crepitus',
      p='cephalexin x 7 days|IV cefazolin, elevate leg|outline borders, oral abx, recheck 48 h'),
    C('B35.1', 'dermatology', 'skin nail rash',
      t='onychomycosis|toenail fungus|fungal toenail infection|onychomycosis of toenails|tinea of the nail plates',
      h='c/o thick yellow toenails for yrs|discolored, crumbly great toenails|nails thickened and painful in shoes'
        '|both big-toe plates yellowed and crumbling for years',
      o='!KOH + hyphae|subungual debris, dystrophic nails|!nail clipping PAS +|!culture grew Trichophyton rubrum',
      p='terbinafine 250 mg x 12 wks|topical efinaconazole|check LFTs, oral antifungal'),
    C('L40.0', 'dermatology', 'skin rash',
      t='plaque psoriasis|chronic plaque psoriasis|psoriasis, plaque type|PsO|psoriatic dermatosis of the extensors',
      h='c/o itchy scaly patches on elbows and knees|silvery plaques on scalp and extensor surfaces|flare of skin'
        ' plaques after stress|thick white-flaking lesions over both kneecaps for months',
      o='well-demarcated erythematous plaques w/ silvery scale|BSA 6%, nail pitting|no joint sx, no pustules|sharply'
        ' bordered red lesions covering about 5% of body surface',
      p='clobetasol ointment|calcipotriene + topical steroid|phototherapy referral'),
    C('B02.9', 'dermatology', 'skin rash neuro',
      t='herpes zoster|shingles|zoster|HZ|VZV reactivation, uncomplicated',
      h='c/o painful band-like rash on L chest x 3 days|burning pain then vesicles along R flank|tingling then'
        ' blistering rash on back|stabbing pain then clustered blisters on the left trunk',
      o='!grouped vesicles in T6 dermatome, no eye involvement|!no ocular or neuro involvement|rash does not cross'
        ' midline|!blisters in a single band, cornea spared, no spread',
      p='valacyclovir 1 g tid x 7 days|analgesics|start antiviral within 72 h'),
    C('G43.009', 'neurology', 'ha neuro gi', age=(18, 60),
      t='migraine w/o aura|common migraine|migraine without aura, not intractable|episodic migraine, no aura|sick'
        ' headache without aura',
      h='c/o throbbing unilateral HA w/ nausea and photophobia|recurrent pulsating headaches lasting 6-12 h|headaches'
        ' 3x/month, worse w/ activity|one-sided pounding head pain with light sensitivity and vomiting',
      o='!no visual or sensory aura|!relieved by sumatriptan, no status|neuro exam nl, BP nl|!no preceding aura,'
        ' attacks resolve within a day w/ triptan',
      p='sumatriptan PRN|start propranolol ppx|HA diary, triptan, avoid triggers'),
    C('R55', 'neurology', 'loc palp neuro',
      t='syncope|syncopal episode|vasovagal syncope|fainting episode|brief faint w/ spontaneous recovery',
      h='passed out briefly while standing in line|fainted after blood draw, brief LOC|witnessed collapse, regained'
        ' consciousness within a minute|lightheaded, then brief blackout in a hot room',
      o='orthostatics neg, ECG NSR|no seizure activity, no injury|trop neg, glucose nl|telemetry unremarkable, echo'
        ' normal',
      p='hydration, counter-maneuvers|outpatient Holter|reassurance, return precautions'),
    C('I63.9', 'neurology', 'neuro cva ha', age=(50, 85),
      t='acute ischemic stroke|CVA|ischemic stroke|cerebral infarct|acute brain infarction',
      h='sudden L-sided weakness and facial droop 2 h ago|woke w/ slurred speech and R arm weakness|acute aphasia, LKW'
        ' 90 min|abrupt left-hand clumsiness and garbled words',
      o='NIHSS 6, CT head neg for bleed|MRI DWI + in MCA territory|BP 172/90, glucose nl|diffusion-weighted imaging'
        ' bright in right frontal cortex, no blood on imaging',
      p='tPA given, admit stroke unit|ASA, statin, telemetry|neuro checks, swallow eval, antiplatelet'),
    C('N18.31', 'nephrology', 'ckd', age=(45, 85),
      t='CKD stage 3a|CKD 3a|chronic kidney disease, stage 3a|moderate CKD, stage G3a|G3a chronic renal impairment',
      h='f/u of kidney function on annual labs|referred for declining eGFR|renal f/u, no uremic sx|here to review'
        ' creatinine trend',
      o='!eGFR 52, 48 and 50 over 6 mo|!eGFR 55, UACR 40|K 4.6, bicarb 23|!GFR persistently 45-59 range for > 3 months',
      p='avoid NSAIDs, start SGLT2i|renally dose meds|nephrology f/u yearly'),
    C('H25.11', 'ophthalmology', 'eye', age=(55, 85),
      t='R nuclear cataract|age-related nuclear cataract OD|nuclear sclerotic cataract, right eye|senile nuclear'
        ' cataract R eye|brunescent nuclear opacity OD, age-related',
      h='c/o blurry vision R eye, glare w/ night driving|gradual decline in vision OD|trouble reading signs, halos at'
        ' night|slowly dimming sight in the right eye over a year',
      o='!2+ nuclear sclerosis OD, OS clear|!VA 20/60 OD, 20/25 OS|IOP nl, fundus nl|!biomicroscopy: dense yellowing'
        ' of the central lens OD, OS unremarkable',
      p='cataract surgery referral|update glasses for now|discuss phaco w/ IOL'),
    C('H66.91', 'ENT', 'ear fever', age=(18, 60),
      t='R otitis media|right OM|R middle ear infection|AOM right ear|infected middle ear, right',
      h='c/o R ear pain x 2 days, fever|rt earache after cold|muffled hearing and pain R ear|throbbing pain in the'
        ' right ear since yesterday, temp 100.9',
      o='!R TM bulging, erythematous; L TM nl|!rt TM opaque w/ effusion|no mastoid tenderness|!otoscopy: injected,'
        ' convex drum on the right, left clear',
      p='amoxicillin x 10 days|analgesics, watchful waiting|amox, recheck ears in 2-3 wks'),
    C('J01.90', 'ENT', 'sinus ha',
      t='acute sinusitis|acute rhinosinusitis|sinus infection|acute bacterial sinusitis|acute inflammation of the'
        ' sinuses',
      h='c/o facial pressure and purulent nasal d/c x 12 days|sinus congestion, worsening after initial improvement'
        '|c/o frontal HA, nasal congestion, postnasal drip|stuffy nose, thick discharge and facial fullness for two'
        ' weeks',
      o='sinus tenderness, purulent drainage|afebrile, TMs nl|nasal mucosa edematous|tender over the sinuses,'
        ' mucopurulent discharge in nares',
      p='amox-clav x 7 days|nasal saline, intranasal steroid|decongestant, return if worse'),
    C('J02.0', 'general medicine', 'throat fever cough', age=(18, 45),
      t='strep throat|GAS pharyngitis|group A strep pharyngitis|strep pharyngitis|streptococcal sore throat',
      h='c/o sore throat and fever x 2 days|painful swallowing, no cough|sudden sore throat, HA, fever 101.8'
        '|odynophagia, temp 102, tender neck nodes',
      o='!rapid strep +, tonsillar exudates|!RADT positive|tender anterior cervical LAD|!point-of-care GAS antigen'
        ' detected',
      p='amoxicillin x 10 days|PCN VK, return to work after 24 h abx|single IM bicillin dose'),
    C('D50.9', 'general medicine', 'anemia sob bleed',
      t='iron deficiency anemia|IDA|iron-deficient anemia|microcytic anemia from iron deficiency|sideropenic anemia',
      h='c/o fatigue and DOE|reports craving ice, brittle nails|tired, pale, SOB on stairs|exhaustion, cold hands and'
        ' hair shedding',
      o='!Hgb 9.4, MCV 72, ferritin 6|!ferritin 8, TSAT 6%|stool guaiac neg|!low MCV, depleted marrow stores',
      p='ferrous sulfate 325 mg daily|IV iron if intolerant|oral iron every other day, GI w/u if no cause'),
    C('F41.1', 'psychiatry', 'psych anxiety',
      t='GAD|generalized anxiety|chronic generalized anxiety|anxiety disorder, generalized type|free-floating anxiety'
        ' disorder',
      h='c/o constant worry about work and family x 1 yr|reports restlessness, poor sleep, muscle tension|feels on'
        ' edge most days, hard to control worry|months of excessive fretting, irritability and trouble concentrating',
      o='GAD-7 16|no panic attacks|TSH nl, no substance use|worry questionnaire 14, no discrete episodes',
      p='start sertraline 50 mg|CBT referral|SSRI, therapy, f/u 4 wks'),
    C('F32.1', 'psychiatry', 'psych depression si',
      t='MDD, single episode, moderate|major depression, first episode, moderate|moderate MDD, first lifetime episode'
        '|single moderate depressive episode (MDD)|single moderate unipolar depressive illness',
      h='c/o low mood, anhedonia and poor sleep x 2 mo|first-ever depressive sx after job loss|reports low energy,'
        ' poor concentration, guilt|two months of sadness, loss of interest and early waking, no prior episodes',
      o='!PHQ-9 15, no prior episodes|!PHQ-9 13, first episode, no psychosis|no SI, no mania hx|!mood questionnaire'
        ' 16, no earlier bouts',
      p='start sertraline, therapy referral|escitalopram 10 mg, f/u 4 wks|SSRI plus CBT, safety plan reviewed'),
    C('F17.210', 'general medicine', 'smoker',
      t='nicotine dependence, cigarettes|tobacco use disorder, cigarettes|cigarette dependence|cigarette smoking w/'
        ' nicotine dependence|dependent cigarette smoker',
      h='smokes 1 ppd x 20 yrs|reports first cigarette within 5 min of waking|wants to cut down, smokes 15 cig/day|20'
        ' smokes daily, craves on waking',
      o='25 pack-yr hx|no withdrawal complications|CO monitor elevated|prior quit attempts failed, no related lung'
        ' disease documented',
      p='start varenicline|NRT patch 21 mg|quitline referral, bupropion'),
]

# ICD-10-CM, unseen: never in train (siblings of seen codes first, then new conditions)
ICD_UNSEEN = [
    C('J02.9', 'general medicine', 'throat cough', age=(18, 45),
      t='viral pharyngitis|acute pharyngitis, strep neg',
      h='sore throat, rhinorrhea and cough x 3 days',
      o='!rapid strep neg, no exudate|!RADT and throat cx neg',
      p='supportive care, salt-water gargles'),
    C('J13', 'pulmonology', 'fever cough sob infect',
      t='pneumococcal pneumonia|strep pneumoniae pneumonia',
      h='fever, productive cough and pleuritic pain x 3 days',
      o='!urine pneumococcal antigen +, RLL consolidation|!blood cx grew Streptococcus pneumoniae',
      p='ceftriaxone, admit'),
    C('K57.30', 'gastroenterology', 'gi abd bleed', age=(50, 85),
      t='colonic diverticulosis|diverticulosis of the colon',
      h='f/u after screening colonoscopy, no abd pain',
      o='!scattered sigmoid diverticula, no inflammation, no bleeding',
      p='high-fiber diet'),
    C('E10.10', 'endocrinology', 'dm gi abd', age=(18, 40),
      t='DKA in type 1 DM|T1DM w/ diabetic ketoacidosis, no coma',
      h='known T1DM, vomiting and abd pain after missed insulin',
      o='!glucose 512, pH 7.14, AG 26, + ketones, alert and oriented',
      p='insulin gtt, IV fluids, ICU'),
    C('E05.00', 'endocrinology', 'thyroid palp', age=(20, 60),
      t='Graves disease|Graves hyperthyroidism w/ diffuse goiter',
      h='palpitations, heat intolerance, 5 kg wt loss',
      o='!TSH <0.01, TRAb +, diffusely enlarged thyroid, no storm features',
      p='methimazole, propranolol'),
    C('I20.0', 'cardiology', 'cp cad sob', age=(45, 85),
      t='unstable angina|crescendo angina',
      h='new rest angina episodes over 3 days, each 10-15 min',
      o='!serial troponins neg x3, transient ST depression w/ pain',
      p='heparin, ASA, cath'),
    C('M17.12', 'orthopedics', 'oa knee joint', age=(50, 85),
      t='primary OA L knee|L knee osteoarthritis',
      h='L knee pain w/ stairs for years, R knee fine',
      o='!XR L knee: medial jt space loss, osteophytes',
      p='PT, NSAIDs'),
    C('G56.02', 'orthopedics', 'wrist neuro',
      t='L carpal tunnel syndrome|left median nerve entrapment at wrist',
      h='numbness L thumb, index and middle fingers at night',
      o='!Tinel and Phalen + on L, NCS prolonged median latency L',
      p='night splint'),
    C('K29.70', 'gastroenterology', 'gi abd bleed gerd',
      t='gastritis|gastric mucosal inflammation',
      h='epigastric burning and nausea after NSAID use',
      o='!EGD: diffuse gastric erythema, no bleeding, no ulcer',
      p='stop NSAIDs, PPI'),
    C('A09', 'general medicine', 'gi abd fever', age=(18, 70),
      t='infectious gastroenteritis|acute infectious diarrhea',
      h='watery diarrhea, vomiting and cramps x 2 days after restaurant meal',
      o='low-grade fever, stool studies pending',
      p='oral rehydration, return if bloody stools'),
    C('L02.411', 'dermatology', 'skin fever rash',
      t='R axillary abscess|abscess of the right armpit',
      h='painful swelling R armpit x 5 days',
      o='!4 cm fluctuant tender mass R axilla w/ surrounding erythema',
      p='I&D, doxycycline'),
    C('E83.42', 'nephrology', 'lytes',
      t='hypomagnesemia|low magnesium',
      h='muscle cramps on PPI and diuretic',
      o='!Mg 1.1, K and Ca nl',
      p='IV then oral Mg replacement'),
    C('I73.9', 'cardiology', 'vasc', age=(50, 85),
      t='peripheral vascular disease|PAD of the legs',
      h='calf pain w/ walking 2 blocks, relieved by rest',
      o='!ABI 0.68 R, 0.74 L, diminished pedal pulses',
      p='cilostazol, walking program, statin'),
    C('F43.10', 'psychiatry', 'psych anxiety depression si',
      t='PTSD|posttraumatic stress',
      h='nightmares, flashbacks and hypervigilance after an assault',
      o='PCL-5 52, avoidance of reminders',
      p='trauma-focused therapy, sertraline'),
    C('J30.2', 'ENT', 'sinus',
      t='seasonal allergic rhinitis|hay fever',
      h='sneezing, itchy eyes and clear rhinorrhea every spring',
      o='pale boggy turbinates, allergic shiners',
      p='intranasal fluticasone, cetirizine'),
]

# ---------------------------------------------------------------------------------------------------------------
# CPT, seen: the narrative is a procedure, visit service, study or test that was done
CPT_SEEN = [
    C('93000', 'cardiology', 'palp cp',
      t='12-lead ECG w/ interpretation|EKG w/ interp and report|resting 12-lead electrocardiogram, read in office'
        '|12-lead EKG, tracing and interpretation|twelve-lead electrocardiographic study, physician-interpreted',
      h='palpitations|preop clearance for knee surgery|new murmur and dizziness|routine cardiac eval before starting a'
        ' QT-prolonging med',
      o='!NSR 72, nl intervals, read by MD|!sinus brady 54, no ST changes, interpreted today|LVH by voltage, no acute'
        ' ischemia|!QTc 430, normal axis, no ischemic pattern, signed by cardiology',
      p='compared w/ prior tracing|results discussed w/ pt|report sent to PCP'),
    C('93306', 'cardiology', 'hf sob edema cad',
      t='complete TTE w/ Doppler|transthoracic echo, complete, w/ color and spectral Doppler|2D echo w/ full Doppler'
        '|complete echocardiogram, transthoracic|comprehensive surface cardiac sonogram w/ flow study',
      h='new systolic murmur|DOE and LE edema|eval of LV function after MI|exertional dyspnea with suspected valve'
        ' disease',
      o='!LVEF 55%, mild MR, complete study|!EF 35%, global hypokinesis, full Doppler|moderate AS, peak gradient 40'
        '|!all windows incl. M-mode and flow interrogation of every valve',
      p='results to cardiology|f/u echo in 1 yr|report sent to PCP'),
    C('93458', 'cardiology', 'cad cp', age=(45, 85),
      t='LHC w/ coronary angiography|left heart cath and coronary angiogram|diagnostic cath w/ coronary angio, left'
        ' heart|coronary angiography via left heart catheterization|LV catheterization plus coronary arteriography',
      h='NSTEMI|positive stress test|accelerating exertional angina|abnormal perfusion scan, anterior defect',
      o='!no PCI performed, LVEDP measured|!80% mid LAD stenosis, radial access, no stent|TIMI 3 flow, LV gram done'
        '|!wrist access, ventricular pressures measured, no stenting',
      p='CABG eval|medical therapy|TR band, d/c same day'),
    C('94060', 'pulmonology', 'asthma copd cough sob',
      t='spirometry w/ pre and post bronchodilator|PFT spirometry before and after albuterol|bronchodilator'
        ' responsiveness spirometry|pre/post BD spirometry|flow-volume loops pre and post inhaled beta-agonist',
      h='chronic cough, r/o asthma|COPD staging|wheezing w/ exertion|intermittent dyspnea and wheeze, suspected'
        ' reactive airways',
      o='!FEV1 improved 15% after albuterol|!FEV1/FVC 0.62, no sig BD response|good effort, ATS criteria met|!repeat'
        ' maneuvers after 4 puffs salbutamol, 13% reversibility',
      p='results reviewed w/ pt|start ICS|pulm f/u'),
    C('71046', 'pulmonology', 'cough fever resp smoker',
      t='CXR PA and lateral|2-view chest x-ray|chest radiograph, 2 views|PA/lat chest film|two-projection thoracic'
        ' radiography',
      h='cough x 3 wks|r/o PNA|fever and cough|lingering hack in a smoker',
      o='!PA and lateral views obtained, no infiltrate|!2 views: RML opacity|no effusion, heart size nl'
        '|!posteroanterior and side images unremarkable',
      p='read by radiology|results called to PCP|f/u imaging 6 wks'),
    C('27447', 'orthopedics', 'oa knee joint', age=(55, 85),
      t='R TKA|total knee arthroplasty|total knee replacement, cemented|L total knee arthroplasty|total knee joint'
        ' prosthesis placement',
      h='end-stage knee OA failing injections|severe tricompartmental DJD|bone-on-bone knee arthritis w/ varus'
        ' deformity|disabling gonarthrosis despite months of therapy',
      o='cemented components, EBL 150 mL|spinal anesthesia, tourniquet 70 min|patellar resurfacing, no complications'
        '|implants fixed with bone cement, stable through range of motion',
      p='PT POD 0, DVT ppx|admit to ortho floor|weight bearing as tolerated, enoxaparin'),
    C('20610', 'orthopedics', 'joint oa knee shoulder gout',
      t='major joint injection w/o US|arthrocentesis, landmark guided|major joint aspiration/injection, no imaging'
        '|intra-articular steroid injection by palpation|large-joint corticosteroid shot by surface anatomy',
      h='knee OA flare w/ effusion|subacromial bursitis|knee effusion, r/o gout|painful large-joint arthritis'
        ' unresponsive to NSAIDs',
      o='!40 mg triamcinolone + lidocaine, no ultrasound used|!30 mL straw fluid aspirated, no imaging guidance'
        '|sterile prep, anatomic landmarks|!blind technique, no sonographic guidance',
      p='fluid to lab|ice, f/u 6 wks|activity as tolerated'),
    C('45378', 'gastroenterology', 'gi bleed abd anemia', age=(40, 80),
      t='diagnostic colonoscopy|colonoscopy to cecum, diagnostic|complete colonoscopy, diagnostic|diagnostic lower'
        ' endoscopy to the cecum|colonoscopic exam, no intervention',
      h='hematochezia|IDA w/u|change in bowel habits|chronic diarrhea and weight loss',
      o='!cecum reached, no polyps removed, no bx|BBPS 8, withdrawal time 9 min|!good prep, normal mucosa, no biopsies'
        ' taken|!scope advanced to terminal ileum, no tissue sampled',
      p='repeat in 10 yrs|high-fiber diet|GI f/u'),
    C('43239', 'gastroenterology', 'gi gerd abd',
      t='EGD w/ biopsy|upper endoscopy w/ bx|esophagogastroduodenoscopy w/ biopsies|upper GI scope, biopsies taken'
        '|endoscopy of esophagus, stomach and duodenum with tissue sampling',
      h='dyspepsia|dysphagia|epigastric pain, r/o H pylori|refractory reflux sx w/ weight loss',
      o='!gastric antral bx x2|!duodenal bx for celiac|LA grade A esophagitis|!cold forceps specimens from antrum and'
        ' body',
      p='f/u path|PPI bid|results in 1 wk'),
    C('47562', 'general surgery', 'gb abd gi',
      t='lap chole|laparoscopic cholecystectomy|laparoscopic gallbladder removal|lap cholecystectomy w/o cholangiogram'
        '|minimally invasive GB excision',
      h='symptomatic cholelithiasis|biliary colic|acute cholecystitis|recurrent gallstone attacks',
      o='!4 ports, critical view obtained, no IOC|EBL minimal|!gallbladder removed intact, no IOC|!no intraoperative'
        ' cholangiography, clips on cystic duct and artery',
      p='d/c home POD 0|advance diet|f/u clinic 2 wks'),
    C('44970', 'general surgery', 'abd gi fever', age=(18, 60),
      t='lap appy|laparoscopic appendectomy|laparoscopic removal of appendix|lap appendectomy|keyhole appendix'
        ' excision',
      h='acute appendicitis|RLQ pain, CT c/w appendicitis|early appendicitis|RLQ pain w/ noncompressible appendix on'
        ' sonogram',
      o='3 ports, appendix stapled at base|nonperforated appendix|no abscess, irrigation|inflamed appendix removed via'
        ' port, base secure',
      p='home POD 1|abx x 24 h|f/u clinic'),
    C('85025', 'general medicine', 'anemia fever',
      t='CBC w/ diff|complete blood count w/ automated differential|CBC with auto diff|hemogram w/ differential|FBC'
        ' with machine leukocyte differential',
      h='fatigue|fever w/u|anemia f/u|monitoring on methotrexate',
      o='!automated diff run on analyzer|specimen drawn in clinic|!Hgb 12.8, WBC 7.2, diff by analyzer|!five-part'
        ' white cell breakdown by machine, platelets normal',
      p='results to pt portal|repeat in 3 mo|reviewed by PCP'),
    C('80061', 'general medicine', 'hld dm',
      t='lipid panel|fasting lipid profile|cholesterol panel (TC, HDL, TG)|lipid profile|blood fat profile',
      h='hyperlipidemia on statin|CV risk screening|DM monitoring|annual cardiovascular risk assessment',
      o='fasting 12 h|LDL calculated|TC 210, HDL 45, TG 150|overnight fast, estimated LDL reported',
      p='results reviewed|statin adjusted|letter mailed w/ results'),
    C('70450', 'neurology', 'ha neuro trauma loc afib',
      t='noncontrast CT head|CT brain w/o contrast|head CT, non-con|unenhanced CT of the head|plain cranial CT',
      h='fall w/ head strike on anticoag|sudden severe HA|new confusion|minor head trauma in an elderly pt on warfarin',
      o='!no contrast given, no ICH|!non-contrast images, no acute findings|chronic small vessel changes|!no bleed or'
        ' mass effect on plain slices',
      p='neuro checks|d/c home|read by radiology'),
    C('72148', 'orthopedics', 'back neuro',
      t='MRI L-spine w/o contrast|lumbar MRI, noncontrast|MRI lumbar spine without gadolinium|non-contrast MR of the'
        ' lumbar spine|unenhanced low-back MR imaging',
      h='lumbar radiculopathy > 6 wks|back pain w/ leg weakness|L5 radicular pain failing PT|persistent sciatica'
        ' despite therapy',
      o='!no gadolinium|L4-5 disc protrusion|!mild foraminal stenosis, no contrast given|!sagittal and axial'
        ' sequences, no injected agent',
      p='spine referral|ESI consideration|results reviewed'),
    C('77067', 'radiology', 'breast', age=(40, 75), sex='F',
      t='screening mammogram|bilateral screening mammography|screening mammo, both breasts|routine bilateral mammogram'
        ' w/ CAD|yearly asymptomatic mammographic study, R and L',
      h='annual screening, asx|age-appropriate screening|routine screening, FHx breast ca|average-risk screening, no'
        ' complaints',
      o='!bilateral, CAD used, BI-RADS 1|!BI-RADS 2, benign calcs, both sides|dense breasts|!computer-aided read'
        ' negative, no recall',
      p='repeat in 1 yr|letter sent|annual mammogram'),
    C('77080', 'radiology', 'bone', age=(50, 85), sex='F',
      t='DXA scan|bone density study, axial|DEXA of hip and spine|axial skeleton bone densitometry|dual-energy x-ray'
        ' absorptiometry, central sites',
      h='postmenopausal screening|long-term steroid use|osteopenia f/u|early menopause and low body weight',
      o='T-score -2.1 L spine|fem neck T -1.8|FRAX calculated|femoral and vertebral sites measured, lowest T -2.4',
      p='Ca/vit D|repeat in 2 yrs|discuss treatment'),
    C('12002', 'emergency medicine', 'trauma skin',
      t='simple laceration repair|simple wound closure|single-layer lac repair|simple suture repair of laceration'
        '|skin-only suturing of a cut',
      h='forearm laceration from kitchen knife|scalp lac after fall|leg lac on metal edge|gash on the shin from a'
        ' garden tool',
      o='!4 cm, closed w/ 5 interrupted 4-0 nylon|!total length 5.5 cm, single layer|irrigated, no foreign body|!6 cm'
        ' cut, superficial stitches, no deep structures',
      p='suture removal in 10 days|wound care|Td up to date'),
    C('10060', 'general medicine', 'skin fever',
      t='I&D of abscess, simple|incision and drainage, single abscess|simple I&D|simple abscess drainage|lancing of a'
        ' solitary boil',
      h='fluctuant thigh abscess|buttock abscess|axillary abscess|tender boggy furuncle on the back',
      o='!single cavity, purulent drainage, packed|!simple, no loculations|2 cm incision|!solitary pocket, pus'
        ' expressed, no packing needed',
      p='wound check 48 h|warm compresses|TMP-SMX x 7 d'),
    C('69210', 'ENT', 'ear',
      t='cerumen removal w/ curette|impacted earwax removal, instrumentation|manual disimpaction of cerumen|ear wax'
        ' removal w/ loop and suction|extraction of hardened ear wax w/ curettage',
      h='impacted cerumen R ear, muffled hearing|L ear fullness|hearing loss from wax|occluded external canal',
      o='!curette and forceps under direct visualization, one ear|TM intact after|!no irrigation used, instruments'
        ' only|!microscope-aided, alligator tool, one side, canal now clear',
      p='debrox PRN|f/u PRN|TM nl post'),
    C('66984', 'ophthalmology', 'eye', age=(55, 85),
      t='phaco w/ IOL|cataract extraction w/ IOL implant|phacoemulsification and lens implant|cataract surgery w/'
        ' posterior chamber IOL|small-incision lens extraction with artificial lens',
      h='visually significant nuclear cataract|glare and VA 20/60|cataract limiting driving|dense lens opacity'
        ' interfering with reading',
      o='!routine, no complex maneuvers|topical anesthesia|!IOL in the bag, routine case|!uneventful, no iris hooks or'
        ' capsular dye',
      p='post-op drops|f/u POD 1|eye shield at night'),
    C('99406', 'general medicine', 'smoker',
      t='tobacco cessation counseling|smoking cessation counseling|quit-smoking counseling|tobacco use counseling'
        '|brief intervention for tobacco use',
      h='1 ppd cigarette use|half-ppd smoking, ready to quit|dual use of vapes and cigarettes|daily cigarette use,'
        ' contemplating quitting',
      o='!counseled 5 min|!8 min spent on cessation|discussed triggers and NRT options|!about 7 min of face-to-face'
        ' advice',
      p='NRT offered|quit date set|quitline info'),
    C('95810', 'pulmonology', 'osa',
      t='in-lab PSG|attended polysomnography|overnight sleep study in lab|attended full PSG|in-center polysomnographic'
        ' recording, technologist-monitored',
      h='suspected OSA|snoring and daytime sleepiness|witnessed apneas|hypersomnolence, partner notes breathing pauses',
      o='!attended by tech, EEG/EOG/EMG, airflow, SpO2|AHI 22|!no CPAP titration done, attended study|!staff present'
        ' throughout, brain-wave staging, diagnostic only',
      p='sleep med f/u|CPAP discussed|results to PCP'),
    C('64721', 'orthopedics', 'wrist neuro',
      t='carpal tunnel release|open CTR|median nerve decompression at wrist|transverse carpal ligament release'
        '|division of the flexor retinaculum',
      h='severe CTS failing splinting|CTS w/ thenar atrophy|EMG-confirmed CTS|persistent median neuropathy despite'
        ' injection',
      o='open technique, ligament divided|tourniquet 15 min|nerve decompressed, no complications|local anesthetic,'
        ' retinaculum fully divided',
      p='splint x 1 wk|hand therapy|suture removal 2 wks'),
    C('31500', 'emergency medicine', 'sob loc etoh',
      t='emergency ETI|emergent endotracheal intubation|emergency intubation|RSI w/ ETT placement|crash airway,'
        ' orotracheal tube placed',
      h='hypoxic resp failure|GCS 6 after overdose|inability to protect airway|respiratory arrest in the ED',
      o='video laryngoscopy, 7.5 ETT, + EtCO2|RSI w/ etomidate/roc|bilateral BS, CXR tube position ok|first-pass'
        ' success, tube secured at 23 cm',
      p='admit ICU|vent settings ordered|sedation started'),
]

CPT_UNSEEN = [
    C('94010', 'pulmonology', 'sob',
      t='spirometry w/o bronchodilator|simple spirometry',
      h='chronic dyspnea',
      o='!FVC and FEV1 measured, no bronchodilator given',
      p='PFT results to pulm'),
    C('71045', 'pulmonology', 'resp',
      t='portable single-view CXR|1-view chest film',
      h='line placement check in ICU',
      o='!single AP portable view only',
      p='tip in SVC, no PTX'),
    C('20611', 'orthopedics', 'joint knee oa',
      t='US-guided knee injection|ultrasound-guided major joint aspiration',
      h='recurrent knee effusion',
      o='!ultrasound guidance w/ images saved to chart',
      p='ice, f/u 6 wks'),
    C('43235', 'gastroenterology', 'gi gerd abd',
      t='diagnostic EGD|diagnostic upper endoscopy',
      h='dyspepsia',
      o='!normal mucosa, no biopsies taken',
      p='PPI trial'),
    C('12001', 'emergency medicine', 'trauma skin',
      t='simple repair of small laceration|simple lac closure',
      h='forearm lac on broken glass',
      o='!2 cm, simple closure w/ 3 sutures',
      p='suture removal in 10 days'),
    C('69209', 'ENT', 'ear',
      t='cerumen removal by irrigation|ear lavage for impacted wax',
      h='impacted cerumen L ear',
      o='!warm water irrigation, one ear, TM visible after',
      p='f/u PRN'),
    C('99407', 'general medicine', 'smoker',
      t='intensive tobacco cessation counseling|extended quit-smoking counseling',
      h='2 ppd smoker',
      o='!counseled for 15 minutes',
      p='varenicline started'),
    C('29881', 'orthopedics', 'knee joint',
      t='knee arthroscopy w/ partial medial meniscectomy|arthroscopic medial meniscectomy',
      h='medial meniscus tear w/ locking',
      o='!medial meniscus trimmed, lateral intact',
      p='WBAT, PT'),
]

# ---------------------------------------------------------------------------------------------------------------
# HCPCS Level II, seen: the narrative is a drug given, an item supplied, or a service provided
HCPCS_SEEN = [
    C('E0601', 'pulmonology', 'osa',
      t='CPAP machine|CPAP device|auto-CPAP unit|continuous positive airway pressure unit|PAP unit, fixed setting',
      h='OSA, AHI 24|moderate OSA on sleep study|OSA w/ daytime sleepiness|new obstructive apnea dx, AHI 22',
      o='pressure 8-14 cm H2O|nasal pillows fitted|compliance download in 30 days|set at 10 cm H2O',
      p='DME delivery|f/u 90 days|mask fitting by RT'),
    C('E1390', 'pulmonology', 'copd sob smoker', age=(50, 85),
      t='home O2 concentrator|stationary oxygen concentrator|O2 concentrator for home|oxygen concentrator, single port'
        '|O2 generator for round-the-clock use at home',
      h='COPD w/ resting hypoxemia|SpO2 86% RA at rest|chronic hypoxemic resp failure|end-stage emphysema, desaturates'
        ' to 85% sitting quietly',
      o='2 L/min via NC continuous|qualifying sat 87%|PaO2 54|flow set to 2 liters around the clock',
      p='DME delivery today|recheck in 90 days|education on O2 safety'),
    C('A4253', 'endocrinology', 'dm',
      t='glucose test strips, 50 ct|blood sugar test strips|glucometer strips (box of 50)|home BG test strips'
        '|fingerstick reagent strips',
      h='DM2 on insulin|T1DM, checks 4x/day|DM2 on basal insulin|insulin-requiring DM, 4 fingersticks daily',
      o='1 box of 50|checks BG qid|refill for 3 mo|quantity 50',
      p='refills x 3|log sugars|bring meter next visit'),
    C('E0607', 'endocrinology', 'dm',
      t='home glucose meter|glucometer|blood glucose monitor for home use|BG meter|personal glycemia monitor',
      h='new dx DM2|prediabetes progressing to DM2|DM2 starting insulin|newly diagnosed diabetes requiring'
        ' self-monitoring',
      o='!taught to use meter|meter only, no CGM|!pt demonstrated fingerstick on new meter|!teach-back completed on'
        ' the device',
      p='check fasting and 2h PP|f/u 2 wks|bring log'),
    C('E0143', 'orthopedics', 'fall oa knee joint',
      t='front-wheeled walker|rolling walker, folding|2-wheeled folding walker|folding walker w/ wheels|collapsible'
        ' two-caster walking frame',
      h='unsteady gait after hip surgery|fall risk, knee OA|deconditioning after hospital stay|balance impairment and'
        ' frequent falls',
      o='!folding frame w/ front wheels, height adjusted|gait training done|!gait training w/ wheeled frame|!set to'
        ' wrist crease, glides in back, casters in front',
      p='PT f/u|home safety eval|use at all times outdoors'),
    C('E0114', 'orthopedics', 'trauma ankle knee', age=(18, 70),
      t='axillary crutches|underarm crutches, aluminum|pair of adjustable underarm crutches|standard axillary crutches'
        '|pair of metal axilla-style crutches',
      h='R ankle fx, NWB|ankle sprain|post-op knee, TTWB|non-weight-bearing after foot fracture',
      o='!aluminum, adjustable, w/ pads and grips|fitted 2 fingers below axilla|!axillary pads, gait instructions'
        ' given|!padded tops and hand pieces, height set',
      p='NWB x 6 wks|ortho f/u|return if pain'),
    C('L4361', 'orthopedics', 'trauma ankle',
      t='pneumatic walking boot|air cam boot, off-the-shelf|prefab air walking boot|CAM walker w/ air bladders'
        '|prefabricated air-bladder fracture boot',
      h='5th metatarsal fx|severe ankle sprain|stress fx of foot|avulsion fx at base of 5th MT',
      o='!off-the-shelf, no custom fitting|air cells inflated|!WBAT, prefab boot used as is|!ready-made, no'
        ' modification',
      p='wear 4-6 wks|f/u XR|ortho f/u'),
    C('J1885', 'emergency medicine', 'pain migraine ha', kind='drug',
      t='ketorolac 30 mg IM|ketorolac injection 60 mg IM|IM ketorolac 60 mg|ketorolac tromethamine 30 mg IM|Toradol 30'
        ' mg IM',
      h='acute renal colic|acute low back spasm|migraine HA|acute musculoskeletal pain after a fall',
      o='R gluteal injection|no NSAID allergy|Cr nl|deltoid site, tolerated',
      p='pain improved|observe 20 min|d/c home'),
    C('J1940', 'cardiology', 'hf edema sob', kind='drug', age=(50, 85),
      t='furosemide 40 mg IV|IV furosemide 40 mg|furosemide 20 mg IV push|furosemide 20 mg IVP|Lasix 40 mg intravenous',
      h='CHF exacerbation w/ volume overload|pulmonary edema|fluid overload w/ LE edema|acute decompensated heart'
        ' failure with crackles',
      o='UOP 900 mL over 2 h|K 4.0|wt 3 kg over dry wt|good response, 1 L out',
      p='repeat dose in AM|daily wts|strict I/O'),
    C('J7620', 'pulmonology', 'copd asthma sob', kind='drug',
      t='albuterol-ipratropium neb|albuterol 2.5/ipratropium 0.5 nebulized|ipratropium-albuterol nebulizer solution'
        '|combination albuterol and ipratropium unit-dose neb|DuoNeb',
      h='COPD exacerbation|wheezing, asthma flare|bronchospasm|acute airway narrowing with wheeze',
      o='3 mL unit dose via home nebulizer|q6h PRN|premixed vial|single 3 mL ampule through the home machine',
      p='supplies via DME|reassess|O2 sat improved'),
    C('J3420', 'general medicine', 'anemia', kind='drug',
      t='B12 1000 mcg IM|vitamin B12 1000 mcg injection|vit B12 shot|IM vitamin B12|cyanocobalamin 1 mg IM',
      h='pernicious anemia|B12 deficiency, level 150|s/p gastric bypass w/ low B12|low B12 with neuropathy',
      o='monthly maintenance dose|deltoid|level 180|upper arm, every 4 weeks',
      p='next dose in 1 mo|recheck level|cont monthly'),
    C('J1030', 'general medicine', 'rash skin gout', kind='drug',
      t='methylprednisolone acetate 40 mg inj|methylpred acetate 40 mg IM|IM methylprednisolone acetate 40 mg|depot'
        ' methylprednisolone 40 mg|Depo-Medrol 40',
      h='poison ivy dermatitis|acute gout flare|severe allergic rhinitis|widespread contact rash',
      o='IM gluteal|single dose|glucose nl|one-time shot',
      p='monitor|f/u PRN|avoid triggers'),
    C('J0696', 'general medicine', 'infect fever uti sob cough', kind='drug',
      t='ceftriaxone 1 g IM|ceftriaxone 500 mg IM|ceftriaxone 1 g IV|IM ceftriaxone 250 mg|Rocephin 500 mg IM',
      h='gonorrhea|CAP before admission|pyelonephritis|uncomplicated gonococcal urethritis',
      o='reconstituted w/ lidocaine|no PCN allergy|observed 15 min|diluted with local anesthetic, gluteal',
      p='observe then d/c|f/u cx|recheck in 48 h'),
    C('J2405', 'emergency medicine', 'gi', kind='drug',
      t='ondansetron 4 mg IV|ondansetron 4 mg IVP|IV ondansetron 8 mg|ondansetron 8 mg IV|Zofran 4 mg IV',
      h='gastroenteritis w/ vomiting|PONV|chemo-induced nausea|persistent emesis from a viral illness',
      o='nausea resolved|QTc 420|tolerated PO after|pushed slowly over 30 seconds',
      p='PO challenge|d/c home|IVF'),
    C('A0427', 'emergency medicine', 'cp loc sob', kind='service',
      t='ALS emergency transport|ALS1 emergency ambulance|advanced life support ambulance, emergent|emergency ALS'
        ' transport, level 1|mobile intensive care unit emergency run',
      h='chest pain w/ ST elevation|witnessed seizure|anaphylaxis|acute respiratory distress at home',
      o='!IV started, cardiac monitoring, meds given|lights and sirens|!12-lead transmitted, ALS monitoring|!medics'
        ' placed IV, gave nebulized bronchodilator',
      p='to ED|care handed off|transported to nearest facility'),
    C('E0570', 'pulmonology', 'asthma copd',
      t='home nebulizer w/ compressor|compressor nebulizer|nebulizer machine|tabletop neb compressor|aerosol machine'
        ' with air pump',
      h='severe asthma unable to use MDI|COPD w/ poor inhaler technique|chronic bronchiectasis|inability to coordinate'
        ' puffers due to arthritis',
      o='w/ tubing and mask|teaching done|neb meds prescribed|mouthpiece kit, return demonstration done',
      p='clean after each use|f/u pulm|DME delivery'),
    C('E0260', 'general medicine', 'hf cva neuro copd', age=(55, 85),
      t='semi-electric hospital bed|hospital bed, semi-electric, w/ rails|home hospital bed (semi-electric)'
        '|semi-electric bed w/ mattress and side rails|care bed with motorized backrest and knee break',
      h='CHF requiring HOB elevation|bedbound state after stroke|severe COPD needing positioning|frequent'
        ' repositioning needs due to advanced Parkinson disease',
      o='!electric head/foot adjust, manual height|side rails, mattress included|!delivered to home, manual height'
        ' crank|!powered head and knee sections, elevation adjusted by hand',
      p='home health f/u|caregiver trained|reassess'),
    C('K0001', 'general medicine', 'fall oa joint', age=(55, 85),
      t='standard manual wheelchair|standard wheelchair|manual w/c, standard|basic wheelchair|standard-weight push'
        ' chair',
      h='inability to walk household distances|L BKA|severe hip OA w/ limited mobility|bilateral hip DJD, walks only a'
        ' few steps',
      o='18 in seat, swing-away footrests|able to self-propel|home accessible|standard weight frame, fixed arms',
      p='PT training|DME delivery|f/u 3 mo'),
    C('L3908', 'orthopedics', 'wrist neuro',
      t='wrist cock-up splint|OTS wrist brace w/ extension|prefab cock-up wrist orthosis|wrist splint, off-the-shelf'
        '|ready-made dorsal-stay wrist support',
      h='CTS|wrist sprain|de Quervain tenosynovitis|nocturnal hand numbness',
      o='!off-the-shelf, no custom molding|neutral wrist position|!nighttime use, prefab|!stock size, not thermoformed',
      p='wear at night|f/u 6 wks|OT referral'),
    C('L1830', 'orthopedics', 'knee trauma joint',
      t='knee immobilizer|canvas knee immobilizer, OTS|prefab knee immobilizer|straight-leg knee immobilizer|stock'
        ' straight-knee brace with stays',
      h='patellar dislocation|knee sprain|post-op quad tendon repair|acute knee ligament injury',
      o='!OTS, universal size|fitted, skin intact|!locked in extension, off the shelf|!stock item, no custom fitting',
      p='WBAT w/ crutches|ortho f/u|remove for hygiene'),
    C('E0720', 'orthopedics', 'back pain oa knee joint',
      t='TENS unit, 2-lead|two-lead TENS|2-channel TENS for localized pain|TENS device, two leads|portable'
        ' electroanalgesia device, 2 channels',
      h='chronic low back pain|knee OA pain|post-herpetic neuralgia|chronic localized neck pain',
      o='!2 leads, localized stim|30-day trial successful|!electrodes placed lumbar, 2 leads|!one region, two'
        ' electrode wires',
      p='use 30 min tid|PT f/u|supplies monthly'),
    C('A9276', 'endocrinology', 'dm',
      t='CGM sensors|continuous glucose monitor sensors|Dexcom sensors|CGM sensor refills|Libre 14-day wearables',
      h='T1DM on pump|DM2 on MDI insulin|hypoglycemia unawareness|insulin-treated diabetes with frequent lows',
      o='30-day supply|10-day wear each|receiver already owned|30 units for the month',
      p='data review 2 wks|refills|upload to clinic'),
    C('J0897', 'endocrinology', 'bone', kind='drug', age=(55, 85), sex='F',
      t='denosumab 60 mg SC|denosumab 60 mg|denosumab injection|SC denosumab|Prolia 60 mg under the skin',
      h='osteoporosis intolerant of bisphosphonates|postmenopausal osteoporosis, T -3.1|osteoporosis w/ CKD|high'
        ' fracture risk after a hip fracture',
      o='q6 mo dosing|Ca 9.4|vit D replete|calcium checked, normal',
      p='next dose 6 mo|Ca/vit D|DXA 2 yrs'),
    C('V5261', 'ENT', 'ear', age=(50, 85),
      t='binaural digital BTE hearing aids|bilateral BTE digital aids|pair of digital behind-the-ear hearing aids'
        '|digital BTE aids, both ears|two over-the-ear amplifiers, DSP type',
      h='b/l SNHL|bilateral hearing loss|presbycusis|symmetric sensorineural loss in both ears',
      o='!fitted both ears|REM verified|!L and R programmed|!right and left devices tuned',
      p='30-day trial|f/u 2 wks|battery education'),
    C('G0399', 'pulmonology', 'osa', kind='service',
      t='home sleep apnea test|HST, type III portable monitor|unattended home sleep study|portable home sleep test'
        '|take-home cardiorespiratory sleep recording',
      h='suspected OSA|snoring, witnessed apneas|daytime sleepiness, STOP-BANG 6|loud snoring and fatigue, high'
        ' pretest probability',
      o='!type III device, airflow, effort, SpO2, HR|!unattended, at home|AHI 19|!4-channel recorder worn in own bed'
        ' overnight',
      p='results to sleep med|CPAP if +|f/u 2 wks'),
]

HCPCS_UNSEEN = [
    C('E0135', 'orthopedics', 'fall',
      t='standard folding walker (no wheels)|folding pickup walker',
      h='unsteady after hip fx',
      o='!no wheels, pt lifts it with each step',
      p='PT f/u'),
    C('E0110', 'orthopedics', 'neuro',
      t='forearm crutches (Lofstrand)|pair of forearm crutches',
      h='chronic LE weakness from polio',
      o='!forearm cuffs, adjustable height',
      p='gait training'),
    C('A0429', 'emergency medicine', 'trauma fall', kind='service',
      t='BLS emergency ambulance transport|emergency BLS transport',
      h='hip fx after fall',
      o='!EMT crew, no ALS interventions',
      p='to ED'),
    C('V5257', 'ENT', 'ear', age=(50, 85),
      t='monaural digital BTE hearing aid|single digital BTE aid',
      h='unilateral SNHL R ear',
      o='!fitted R ear only',
      p='f/u 2 wks'),
    C('J2270', 'emergency medicine', 'pain', kind='drug',
      t='morphine 4 mg IV|IV morphine sulfate 4 mg',
      h='femur fx pain',
      o='reassessed 15 min, pain 4/10',
      p='splint, ortho consult'),
    C('E0630', 'general medicine', 'fall', age=(55, 85),
      t='hydraulic patient lift (Hoyer)|mechanical patient lift w/ sling',
      h='bedbound status, 2-person transfers',
      o='sling included, caregiver trained',
      p='home health f/u'),
    C('L0120', 'orthopedics', 'trauma',
      t='soft foam cervical collar|OTS foam neck collar',
      h='cervical strain after MVC',
      o='!flexible foam, off-the-shelf',
      p='wean over 1 wk'),
]

# ---------------------------------------------------------------------------------------------------------------
# Distractors: background history and negated mentions, each with the tags it must not meet in the coded item
PMH = [('PMH HTN on lisinopril, HLD on atorvastatin', 'htn hld'), ('PMH HTN', 'htn'), ('hx HLD on statin', 'hld'),
       ('PMH DM2 on metformin, A1c 7.1', 'dm'), ('h/o GERD on omeprazole', 'gerd gi'),
       ('PMH hypothyroidism on levothyroxine', 'thyroid'), ('hx OA both knees, uses NSAIDs', 'oa knee joint'),
       ('PMH CKD 3, eGFR 50s', 'ckd'), ('h/o paroxysmal afib on apixaban', 'afib palp'), ('PMH BPH on tamsulosin',
       'bph gu M'), ('hx depression, stable on sertraline', 'psych depression si'), ('known OSA on CPAP', 'osa'),
       ('PMH asthma, albuterol PRN', 'asthma sob'), ('former smoker, 20 pack-yrs', 'smoker copd'),
       ('PMH gout on allopurinol', 'gout joint'), ('hx migraines on sumatriptan PRN', 'migraine ha'),
       ('PMH obesity, BMI 34', 'obesity'), ('hx remote CVA, no residual deficits', 'cva neuro'),
       ('PMH CAD s/p stent, on ASA', 'cad cp'), ('h/o GAD on buspirone', 'psych anxiety'), ('hx kidney stones',
       'stone gu'), ('PMH osteoporosis on alendronate', 'bone'), ('PMH HTN, DM2, HLD', 'htn dm hld'),
       ('hx hypothyroidism, GERD', 'thyroid gerd gi'), ('h/o COPD on tiotropium', 'copd sob smoker cough'),
       ('PMH HFrEF, EF 35%', 'hf sob edema'), ('hx iron deficiency anemia', 'anemia'), ('s/p lap chole', 'gb'),
       ('s/p R TKA', 'knee oa joint'), ('hx psoriasis on topicals', 'skin rash'), ('PMH vit D deficiency on D3',
       'vitd bone'), ('h/o prediabetes', 'dm')]
NEG = [('denies CP or SOB', 'cp sob'), ('no fever or chills', 'fever infect'),
       ('denies dysuria or hematuria', 'uti gu'), ('no N/V/D', 'gi abd'),
       ('denies HA or vision changes', 'ha neuro eye'), ('no LOC', 'loc trauma neuro'),
       ('denies palpitations', 'palp afib'), ('no rash', 'rash skin'), ('no recent travel or sick contacts', 'infect'),
       ('denies melena or hematochezia', 'bleed gi anemia'), ('no leg swelling', 'edema dvt hf'),
       ('denies numbness or weakness', 'neuro wrist'), ('no cough', 'cough resp'), ('denies SI/HI', 'si'),
       ('no abd pain', 'abd gi'), ('denies joint pain', 'joint oa knee'), ('no hearing loss', 'ear'),
       ('denies etoh or drug use', 'etoh')]

def distractor(rng, item, sex, p:float)->str:
    "With probability `p`, a background or negated mention that does not clash with the coded item"
    if rng.random() >= p: return ''
    def ok(tags): return not set(tags.split()) & item['tags'] and ('M' not in tags.split() or sex == 'M')
    pmh,neg = [d for d,t in PMH if ok(t)],[d for d,t in NEG if ok(t)]
    r = rng.random()
    if r < 0.45: return rng.choice(pmh)
    if r < 0.8: return rng.choice(neg)
    return f'{rng.choice(pmh)}; {rng.choice(neg)}'

# ---------------------------------------------------------------------------------------------------------------
# Templates. {intro}: age and sex; {distp}: ' (distractor)' or ''; {dist}: 'Distractor.' or ''
TEMPLATES = {
    'icd10cm': dict(
        train=['{intro}{distp} {hpi}. {obj}. A/P: {term}; {plan}.',
               '{intro} {hpi}. {dist} {obj}. Dx {term}. {plan}.',
               'HPI: {intro} {hpi}. {obj}. {dist} Impression: {term}. Plan: {plan}.',
               '{intro}{distp}. {hpi}; {obj}. Assessment: {term}, {plan}.',
               'CC/HPI: {hpi}. {intro}. {obj}. {dist} A: {term}. P: {plan}.'],
        held=['Assessment - {term}. {intro}{distp} {hpi}; {obj}. Next: {plan}.',
              '{intro}: {hpi}. {dist} Findings: {obj}. Pt dx\'d w/ {term}; {plan}.',
              'Problem: {term}. S: {intro} {hpi}. O: {obj}. {dist} P: {plan}.']),
    'cpt': dict(
        train=['{intro}{distp} w/ {hpi}. {term} performed. {obj}. {plan}.',
               'Procedure: {term}. Indication: {hpi}. {intro}. {dist} {obj}; {plan}.',
               '{intro} underwent {term} for {hpi}. {obj}. {dist} {plan}.',
               'Indication: {hpi}. {intro}{distp}. {term} done today; {obj}. {plan}.',
               '{intro} w/ {hpi}. {dist} Today: {term}. {obj}, {plan}.'],
        held=['{term} completed on {a_intro} ({hpi}). {obj}. {dist} {plan}.',
              'Procedure note: {intro}{distp}, {hpi}. Performed {term}: {obj}. {plan}.',
              'Reason for service - {hpi}. {dist} {term} carried out in {a_intro}, {obj}. {plan}.']),
    'hcpcs': dict(
        train=['{intro}{distp} w/ {hpi}. {term} {verb}. {obj}. {plan}.',
               '{hpi}: {term} {verb}. {intro}. {dist} {obj}; {plan}.',
               '{intro} w/ {hpi}. {dist} {Verb} {term}; {obj}. {plan}.',
               'Reason: {hpi}. {intro}{distp}. {term} {verb} today, {obj}. {plan}.',
               'For {hpi}, {intro} received {term}. {obj}. {dist} {plan}.'],
        held=['{intro} ({hpi}) got {term} this visit. {dist} {obj}; {plan}.',
              'Item/med: {term}. Pt: {intro}{distp} w/ {hpi}. {obj}. {plan}.',
              'Need: {hpi}. {dist} {term} {verb} per order for {a_intro}, {obj}; {plan}.']),
}
VERBS = {'drug': ['given', 'administered'], 'item': ['dispensed', 'supplied', 'issued'], 'service': ['provided']}

def intro(rng, age:int, sex:str)->str:
    "'58 yo M', '58M', '58 y/o man', ..."
    mw,mf = ('man','male') if sex == 'M' else ('woman','female')
    return rng.choice([f'{age} yo {sex}', f'{age}{sex}', f'{age} y/o {mw}', f'{age}-year-old {mw}', f'{age} yo {mf}'])

def _cap(s:str)->str:
    "Upper-case the first letter of each sentence, leaving words such as eGFR or pH alone"
    def up(m):
        w = m.group(2)
        return m.group(1) + (w[0].upper() + w[1:] if w[0].islower() and not any(c.isupper() for c in w[1:]) else w)
    return re.sub(r'(^|[.?]\s+)([A-Za-z][\w/\'-]*)', up, s)

def tidy(s:str)->str:
    s = re.sub(r'\s+', ' ', s).strip()
    s = re.sub(r'\s+([.,;:])', r'\1', s)
    return _cap(s)

def render(rng, system, item, template, term, hpi, obj, plan, p_dist:float)->str:
    "Fill one template"
    lo,hi = item['age']
    sex = item['sex'] or rng.choice('MF')
    d = distractor(rng, item, sex, p_dist)
    verb = rng.choice(VERBS[item['kind']])
    who = intro(rng, rng.randint(lo, hi), sex)
    text = template.format(intro=who, a_intro=('an ' if re.match(r'8|1[18]\D', who) else 'a ') + who, hpi=hpi,
                           term=term, plan=plan,
                           obj=rng.choice([', ', '; ']).join(o.lstrip('!') for o in obj), verb=verb,
                           Verb=verb.capitalize(), distp=f' ({d})' if d else '', dist=f'{d}.' if d else '')
    return tidy(text)

def pick_obj(rng, pool:list, first:list=())->list:
    "One or two findings from `pool` (in their written order), at least one distinguishing if the code has any"
    keys = [o for o in pool if o.startswith('!')]
    out = list(first)
    if not any(o.startswith('!') for o in out) and keys: out.append(rng.choice(keys))
    if not out: out.append(rng.choice(pool))
    plain = [o for o in pool if not o.startswith('!') and o not in out]
    if plain and len(out) < 2 and rng.random() < 0.6:   # a supporting finding, never a second distinguishing one
        out.append(rng.choice(plain))
    order = {o:i for i,o in enumerate(pool)}
    return sorted(out, key=lambda o: order.get(o, len(pool)))

def shingles(s:str)->set:
    w = re.findall(r'[a-z0-9]+', s.lower())
    return {tuple(w[i:i+3]) for i in range(len(w)-2)}

def jaccard(a:set, b:set)->float: return len(a & b) / max(1, len(a | b))

def words(s:str)->int: return len(s.split())

def narratives(rng, system, item, n:int, heldout:str|None=None, avoid=())->list[str]:
    "`n` narratives of one code: training fragments and templates, or (heldout) the held-out ones"
    tpl = TEMPLATES[system]['held' if heldout else 'train']
    T,H,O,P = item['terms'],item['hpi'],item['obj'],item['plan']
    if heldout == 'seen_code': T,H,P = T[-1:],H[-1:],P[-1:]        # the held-out phrasing, history and plan
    elif not heldout: T,H,O,P = T[:-1],H[:-1],O[:-1],P[:-1]        # everything but them
    T,H,P,tpl = [rng.sample(x, len(x)) for x in (T,H,P,tpl)]        # rotate through every phrasing and template
    out,seen = [],[shingles(a) for a in avoid]
    for i in range(n):
        for attempt in range(200):
            j = i + attempt
            obj = [O[-1]] if heldout == 'seen_code' else pick_obj(rng, O)   # seen_code: the held-out finding alone
            text = render(rng, system, item, tpl[j % len(tpl)], T[j % len(T)], H[(j + i//len(H)) % len(H)], obj,
                          P[j % len(P)], P_DISTRACTOR[heldout])
            sh = shingles(text)
            if MIN_WORDS <= words(text) <= MAX_WORDS and all(jaccard(sh, s) < 0.5 for s in seen): break
        else: raise SystemExit(f"{item['code']}: cannot build narrative {i+1} of {n} within {MIN_WORDS}-{MAX_WORDS}"
                               ' words that differs from the others; add fragments')
        out.append(text); seen.append(sh)
    return out

# ---------------------------------------------------------------------------------------------------------------
def check_codes(items)->dict:
    "{code: description} for every code; stops at the first code llmforge does not accept as a known, billable code"
    from llmforge.codes import validate
    out = {}
    for system,item in items:
        r = validate(item['code'], system)
        if not (r.is_valid and r.known and r.billable is not False and r.normalized == item['code']):
            raise SystemExit(f"{item['code']} ({system}) is not a known billable code: {r.error or r.status}")
        if item['code'] in out: raise SystemExit(f"{item['code']} is listed twice")
        out[item['code']] = r.description
    return out

def check_records(records):
    "Every narrative free of PHI, ASCII, in length; every answer parses back to its code"
    from llmforge.codes import find_codes
    from llmforge.phi import find_phi
    for r in records:
        text,answer,m = r['messages'][0]['content'],r['messages'][1]['content'],r['metadata']
        if find_codes(answer) != [(m['code_type'], m['code'])]: raise SystemExit(f'{answer!r} does not parse back')
        spans = find_phi(text)
        if spans: raise SystemExit(f'{m["code"]}: PHI-like text {[text[s.start:s.end] for s in spans]} in {text!r}')
        if not text.isascii() or not MIN_WORDS <= words(text) <= MAX_WORDS: raise SystemExit(f'bad narrative: {text!r}')

def build(seed:int=SEED)->list[dict]:
    "All records, train first, then val"
    seen = [('icd10cm', c) for c in ICD_SEEN] + [('cpt', c) for c in CPT_SEEN] + [('hcpcs', c) for c in HCPCS_SEEN]
    unseen = ([('icd10cm', c) for c in ICD_UNSEEN] + [('cpt', c) for c in CPT_UNSEEN]
              + [('hcpcs', c) for c in HCPCS_UNSEEN])
    desc = check_codes(seen + unseen)
    rng = random.Random(seed)
    def rec(system, item, text, split, heldout):
        meta = {'code_type': system, 'code': item['code'], 'description': desc[item['code']],
                'specialty': item['specialty'], 'heldout': heldout}
        return {'messages': [{'role': 'user', 'content': text},
                             {'role': 'assistant', 'content': f"{short(desc[item['code']])}. {LABEL[system]}: {item['code']}"}],
                'split': split, 'metadata': meta}
    train,val = [],[]
    for system,item in seen:
        texts = narratives(rng, system, item, N_TRAIN)
        train += [rec(system, item, t, 'train', None) for t in texts]
        held = narratives(rng, system, item, 1, 'seen_code', avoid=texts)
        val += [rec(system, item, t, 'val', 'seen_code') for t in held]
    for system,item in unseen:
        val += [rec(system, item, t, 'val', 'unseen_code') for t in narratives(rng, system, item, 1, 'unseen_code')]
    rng.shuffle(train); rng.shuffle(val)
    records = train + val
    check_records(records)
    return records

def short(description:str)->str:
    "The description as the answer names it: its first clause (before a ';'), without a final period"
    return description.split(';')[0].strip().rstrip('.')

def to_jsonl(records)->bytes: return ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in records).encode('utf-8')

def main(argv=None)->int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', type=Path, default=OUT, help=f'where to write (default: {OUT})')
    ap.add_argument('--check', action='store_true', help='rebuild in memory; exit 1 if --out differs')
    args = ap.parse_args(argv)
    if args.out == OUT and not (PACKAGE/'__init__.py').exists():
        raise SystemExit(f'{__file__} is not inside the llmforge package (a copied example?): give --out PATH')
    data = to_jsonl(build())
    if args.check:
        ok = args.out.exists() and args.out.read_bytes() == data
        print(f'{args.out}: ' + ('up to date' if ok else 'differs from the script output; rerun without --check'))
        return 0 if ok else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    n = data.count(b'\n')
    print(f'wrote {n} records to {args.out}')
    return 0

if __name__ == '__main__': sys.exit(main())
